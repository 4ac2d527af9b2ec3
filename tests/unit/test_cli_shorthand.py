"""The AWS CLI shorthand syntax, as the AWS CLI documents and parses it."""

from __future__ import annotations

import pytest

from kubatch.cli.shorthand import ShorthandError, parse_item, parse_shorthand


@pytest.mark.parametrize(("text", "parsed"), [
    ("size=100", {"size": "100"}),
    ("a=b,c=d", {"a": "b", "c": "d"}),
    ("attemptDurationSeconds=120", {"attemptDurationSeconds": "120"}),
    ("input_file=s3://my-bucket/data/new-input.csv", {"input_file": "s3://my-bucket/data/new-input.csv"}),
    ("jobId=abc,type=N_TO_N", {"jobId": "abc", "type": "N_TO_N"}),
    ("command=echo,hello,vcpus=2", {"command": ["echo", "hello"], "vcpus": "2"}),
    ("command=[echo,hello]", {"command": ["echo", "hello"]}),
    ("command=[]", {"command": []}),
    ("key={a=1,b=2}", {"key": {"a": "1", "b": "2"}}),
    ("key={a={b=[x,{c=d}]}}", {"key": {"a": {"b": ["x", {"c": "d"}]}}}),
    ("environment=[{name=A,value=1},{name=B,value=2}]",
     {"environment": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}),
    ("a='x,y',b=\"p=q\"", {"a": "x,y", "b": "p=q"}),
    ("a=", {"a": ""}),
    (" a = b , c = d ", {"a": "b", "c": "d"}),
    ("query=k=v", {"query": "k=v"}),
    ("evaluateOnExit=[{action=RETRY,onStatusReason=Host*}],attempts=3",
     {"evaluateOnExit": [{"action": "RETRY", "onStatusReason": "Host*"}], "attempts": "3"}),
])
def test_shorthand(text: str, parsed: dict) -> None:
    assert parse_shorthand(text) == parsed


@pytest.mark.parametrize(("text", "where"), [
    ("justtext", "expected key=value at position 0"),
    ("a=b,", "expected key=value at position 4"),
    ("a={b=1", "expected '}'"),
    ("a=[x,y", "expected ']'"),
    ("a='open", "unterminated quote"),
    ("a={b=1}x", "unexpected text"),
])
def test_invalid_shorthand_says_where(text: str, where: str) -> None:
    with pytest.raises(ShorthandError, match=where.replace("[", "\\[").replace("{", "\\{")):
        parse_shorthand(text)


@pytest.mark.parametrize(("text", "parsed"), [
    ("abc", "abc"),
    ("arn:aws:batch:us-east-1:1:job/x", "arn:aws:batch:us-east-1:1:job/x"),
    ("jobId=x", {"jobId": "x"}),
])
def test_list_items(text: str, parsed: object) -> None:
    assert parse_item(text) == parsed
