"""The one ranges codec: what the planner writes, the front ends read back child by child."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubatch.core.ranges import IndexRanges, IndexValues, decode, encode, pairs


@given(st.sets(st.integers(min_value=0, max_value=300)))
def test_decode_inverts_encode_and_bisection_agrees_with_it(indexes):
    text = encode(indexes)
    assert decode(text) == indexes
    ranges = IndexRanges(text)
    assert {index for index in range(-1, 302) if index in ranges} == indexes


def test_encode_merges_runs():
    assert encode([5, 0, 1, 2, 2]) == "0-2,5"
    assert encode([]) == ""


@pytest.mark.parametrize(("text", "message"), [
    ("0-x", "bad index range '0-x'"),
    ("4-2", "bad index range '4-2': end before start"),
    ("1,,a", "bad index range 'a'"),
])
def test_every_reader_refuses_the_same_malformed_ranges(text, message):
    for read in (pairs, decode, IndexRanges):
        with pytest.raises(ValueError, match=f"^{message}$"):
            read(text)
    with pytest.raises(ValueError, match=f"^137: {message}$"):
        IndexValues({"0": "1", "137": text})


def test_values_are_found_by_index():
    exit_codes = IndexValues({"0": "0-4,7", "1": "5"})
    assert [exit_codes.get(index) for index in (0, 4, 5, 6, 7)] == ["0", "0", "1", None, "0"]
