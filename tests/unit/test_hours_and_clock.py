"""Business hours in the store's timezone, and the injectable clock."""

from datetime import UTC, datetime

import pytest
from shopdesk.clock import FixedClock, iso, parse_iso
from shopdesk.hours import DEFAULT_WEEKLY, is_open

pytestmark = pytest.mark.unit


def test_hours_are_read_in_the_store_timezone():
    # Given 01:30 UTC on a Wednesday, which is 09:30 in Shanghai
    moment = datetime(2026, 11, 25, 1, 30, tzinfo=UTC)
    # Then a 09:00-23:00 store is open, though it is 01:30 in UTC
    assert is_open(moment, "Asia/Shanghai", DEFAULT_WEEKLY)
    assert not is_open(moment, "UTC", DEFAULT_WEEKLY)


def test_a_day_without_hours_is_closed():
    moment = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)  # a Sunday, noon in Shanghai
    weekly = {str(day): ["09:00", "18:00"] for day in range(5)}
    assert not is_open(moment, "Asia/Shanghai", weekly)


def test_closing_time_is_exclusive():
    moment = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # 18:00 in Shanghai
    assert not is_open(moment, "Asia/Shanghai", {"2": ["09:00", "18:00"]})


def test_a_fixed_clock_moves_only_when_told():
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    before = clock.now()
    clock.advance(seconds=31)
    assert (clock.now() - before).total_seconds() == 31


def test_iso_round_trips_with_milliseconds_and_sorts_in_time_order():
    moment = datetime(2026, 1, 1, 8, 0, 0, 123000, tzinfo=UTC)
    assert iso(moment) == "2026-01-01T08:00:00.123Z"
    assert parse_iso(iso(moment)) == moment
    assert iso(moment) < iso(datetime(2026, 1, 1, 8, 0, 1, tzinfo=UTC))
