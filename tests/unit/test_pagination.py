"""Opaque cursors round-trip DynamoDB keys and refuse garbage with a clear code."""

import pytest
from shopdesk.errors import ValidationFailed
from shopdesk.pagination import decode_cursor, encode_cursor

pytestmark = pytest.mark.unit


def test_a_cursor_round_trips_the_last_evaluated_key():
    key = {"pk": {"S": "SESSION#s-1"}, "sk": {"S": "MSG#0000000050"}}
    assert decode_cursor(encode_cursor(key)) == key


def test_no_more_pages_means_no_cursor():
    assert encode_cursor(None) is None
    assert decode_cursor(None) is None


@pytest.mark.parametrize("garbage", ["%%%", "bm90IGpzb24", "WzFd"])
def test_a_malformed_cursor_is_a_validation_error(garbage: str):
    with pytest.raises(ValidationFailed) as raised:
        decode_cursor(garbage)
    assert raised.value.code == "validation_error"
