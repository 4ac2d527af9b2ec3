"""Reading flag values: JSON or shorthand, space-separated lists, file://, the model's shapes."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from kubatch.api import BatchJobSpec
from kubatch.api.structural import to_structural
from kubatch.cli.values import Kind, conform, expand_lists, items, structure

JOB = to_structural(BatchJobSpec.model_json_schema())["properties"]


@pytest.mark.parametrize(("args", "expanded"), [
    (["--jobs", "a", "b", "c"], ["--jobs", "a", "--jobs", "b", "--jobs", "c"]),
    (["--jobs", "a", "-o", "table"], ["--jobs", "a", "-o", "table"]),
    (["--jobs=a", "b"], ["--jobs=a", "--jobs", "b"]),
    (["--job-name", "x", "--depends-on", "jobId=a", "jobId=b,type=N_TO_N"],
     ["--job-name", "x", "--depends-on", "jobId=a", "--depends-on", "jobId=b,type=N_TO_N"]),
    (["--jobs", "a", "--", "b"], ["--jobs", "a", "--", "b"]),
    (["--reason", "x", "y"], ["--reason", "x", "y"]),
])
def test_space_separated_lists(args: list[str], expanded: list[str]) -> None:
    assert expand_lists(args, {"--jobs", "--depends-on"}) == expanded


def test_shorthand_takes_the_models_shape() -> None:
    assert structure("command=echo,vcpus=2", flag="--x", schema=JOB["containerOverrides"]) == {
        "command": ["echo"], "vcpus": "2"}
    assert structure("size=100", flag="--x", schema=JOB["arrayProperties"]) == {"size": "100"}
    assert structure("input_file=s3://b/k", flag="--x", schema=JOB["parameters"]) == {"input_file": "s3://b/k"}


def test_json_is_taken_as_written() -> None:
    assert structure('{"command": "echo"}', flag="--x", schema=JOB["containerOverrides"]) == {"command": "echo"}


def test_conform_wraps_lone_values_where_lists_are_expected() -> None:
    schema = JOB["containerOverrides"]
    assert conform({"environment": {"name": "A", "value": "1"}}, schema) == {"environment": [{"name": "A",
                                                                                             "value": "1"}]}
    assert conform({"unknown": "x"}, schema) == {"unknown": "x"}


def test_lists_of_structures() -> None:
    assert items(("jobId=a", "jobId=b,type=N_TO_N"), flag="--depends-on", kind=Kind.STRUCTURES,
                 schema=JOB["dependsOn"]) == [{"jobId": "a"}, {"jobId": "b", "type": "N_TO_N"}]
    assert items(('[{"jobId": "a"}]',), flag="--depends-on", kind=Kind.STRUCTURES, schema=JOB["dependsOn"]) == [
        {"jobId": "a"}]
    assert items(('{"jobId": "a"}', "jobId=b"), flag="--depends-on", kind=Kind.STRUCTURES,
                 schema=JOB["dependsOn"]) == [{"jobId": "a"}, {"jobId": "b"}]


def test_lists_of_strings_may_also_use_commas() -> None:
    assert items(("a", "b,c"), flag="--jobs", kind=Kind.STRINGS, schema={}) == ["a", "b", "c"]


def test_file_values(tmp_path: Path) -> None:
    path = tmp_path / "overrides.json"
    path.write_text('{"vcpus": 4}')
    assert structure(f"file://{path}", flag="--x", schema={}) == {"vcpus": 4}
    with pytest.raises(click.BadParameter, match="cannot read file://"):
        structure(f"file://{tmp_path}/missing.json", flag="--x", schema={})


@pytest.mark.parametrize(("text", "message"), [
    ('{"a": ', "invalid JSON"),
    ("a={b", "invalid shorthand"),
])
def test_bad_values(text: str, message: str) -> None:
    with pytest.raises(click.BadParameter, match=message):
        structure(text, flag="--x", schema={})
