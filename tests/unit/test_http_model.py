"""The route table and the compatibility page are what botocore's Batch model and the code make them."""

from __future__ import annotations

import asyncio

import pytest

from kubatch.http.compatibility import render
from kubatch.http.generate import DOCS_PATH, MODEL_PATH, load_service_model, render_model
from kubatch.http.model import ROUTES
from kubatch.http.routing import NoRoute, Router
from kubatch.service import OPERATIONS

REGENERATE = "stale: run `python -m kubatch.http.generate` (from operator/) and commit the result"


@pytest.fixture(scope="module")
def model() -> dict:
    pytest.importorskip("botocore", reason="botocore is a test dependency (.[test])")
    return load_service_model()


def test_the_route_table_is_botocores(model: dict) -> None:
    assert MODEL_PATH.read_text() == render_model(model), REGENERATE


def test_the_compatibility_page_is_up_to_date(model: dict) -> None:
    page = DOCS_PATH.read_text()
    assert asyncio.run(render(model, page)) == page, REGENERATE


def test_every_service_operation_is_a_botocore_operation(model: dict) -> None:
    assert set(OPERATIONS) <= set(model["operations"])
    print(f"\nkubatch implements {len(OPERATIONS)} of botocore's {len(model['operations'])} Batch operations; "
          f"not: {', '.join(sorted(set(model['operations']) - set(OPERATIONS)))}")


@pytest.mark.parametrize(("method", "path", "query", "operation", "members"), [
    ("POST", "/v1/submitjob", "", "SubmitJob", {}),
    ("post", "/v1/describejobs/", "", "DescribeJobs", {}),
    ("GET", "/v1/tags/arn%3Aaws%3Abatch%3Aus-east-1%3A0%3Ajob-queue%2Fq", "", "ListTagsForResource",
     {"resourceArn": "arn:aws:batch:us-east-1:0:job-queue/q"}),
    ("POST", "/v1/tags/arn%3Aaws%3Abatch%3Aus-east-1%3A0%3Ajob%2Fj", "", "TagResource",
     {"resourceArn": "arn:aws:batch:us-east-1:0:job/j"}),
    ("DELETE", "/v1/tags/x", "tagKeys=a&tagKeys=b%20c&other=1", "UntagResource",
     {"resourceArn": "x", "tagKeys": ["a", "b c"]}),
])
def test_requests_find_their_operation(method: str, path: str, query: str, operation: str, members: dict) -> None:
    assert Router(ROUTES).resolve(method, path, query) == (operation, members)


@pytest.mark.parametrize(("method", "path"), [("GET", "/v1/submitjob"), ("POST", "/v1/nosuchoperation"),
                                              ("POST", "/"), ("PUT", "/v1/tags/x")])
def test_no_operation_here(method: str, path: str) -> None:
    with pytest.raises(NoRoute, match=f"no AWS Batch operation is served at {method} {path}"):
        Router(ROUTES).resolve(method, path)
