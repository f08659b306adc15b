"""SLA arithmetic on business calendars: weekends, holidays, pauses, and timezones with and without DST."""

from datetime import UTC, datetime, time, timedelta

import pytest
from shopdesk.sla import (
    DEFAULT_LADDER,
    DEFAULT_POLICIES,
    TARGETS,
    Calendar,
    Clock,
    add,
    counted,
    execution_name,
    ladder_from,
    plan,
    policies_from,
    state,
)

pytestmark = pytest.mark.unit

WORKDAYS = {str(day): ["09:00", "18:00"] for day in range(5)}
SHANGHAI = Calendar.from_settings("Asia/Shanghai", WORKDAYS, holidays=["2026-10-01"])


def shanghai(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC) - timedelta(hours=8)  # Shanghai has no daylight saving


def test_around_the_clock_just_adds():
    start = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
    assert add(start, timedelta(hours=2), None) == start + timedelta(hours=2)


def test_time_within_one_business_day():
    # Given 10:00 on a Wednesday in Shanghai, When two business hours pass, Then it is 12:00
    assert add(shanghai(2026, 11, 25, 10), timedelta(hours=2), SHANGHAI) == shanghai(2026, 11, 25, 12)


def test_time_past_closing_carries_over_the_weekend():
    # Given 17:00 on a Friday, When two business hours pass, Then it is 10:00 on Monday
    assert add(shanghai(2026, 11, 27, 17), timedelta(hours=2), SHANGHAI) == shanghai(2026, 11, 30, 10)


def test_a_start_outside_hours_begins_at_the_next_opening():
    assert add(shanghai(2026, 11, 28, 12), timedelta(minutes=30), SHANGHAI) == shanghai(2026, 11, 30, 9, 30)
    assert add(shanghai(2026, 11, 25, 7), timedelta(hours=1), SHANGHAI) == shanghai(2026, 11, 25, 10)


def test_holidays_are_skipped():
    # 2026-10-01 is a Thursday holiday: 17:00 on Wednesday + 2 h ends at 10:00 on Friday
    assert add(shanghai(2026, 9, 30, 17), timedelta(hours=2), SHANGHAI) == shanghai(2026, 10, 2, 10)


def test_counted_time_between_instants_skips_closed_hours():
    assert counted(shanghai(2026, 11, 27, 17), shanghai(2026, 11, 30, 10), SHANGHAI) == timedelta(hours=2)
    assert counted(shanghai(2026, 11, 27, 17), shanghai(2026, 11, 30, 10), None) == timedelta(hours=65)
    assert counted(shanghai(2026, 11, 30, 10), shanghai(2026, 11, 27, 17), SHANGHAI) == timedelta(0)


def test_business_hours_follow_daylight_saving_in_a_zone_that_has_it():
    # New York moved from EDT (UTC-4) to EST (UTC-5) on 2026-11-01.
    new_york = Calendar("America/New_York", {day: (time(9), time(17)) for day in range(5)})
    friday_before = datetime(2026, 10, 30, 20, 30, tzinfo=UTC)  # 16:30 EDT
    # One business hour from 16:30 Friday ends at 09:30 on Monday, now EST: 14:30 UTC, not 13:30
    assert add(friday_before, timedelta(hours=1), new_york) == datetime(2026, 11, 2, 14, 30, tzinfo=UTC)


def test_a_midnight_closing_counts_to_the_end_of_the_day():
    all_day = Calendar.from_settings("Asia/Shanghai", {str(day): ["00:00", "24:00"] for day in range(7)})
    start = shanghai(2026, 11, 28, 23)
    assert add(start, timedelta(hours=2), all_day) == shanghai(2026, 11, 29, 1)


def test_a_pause_stops_the_clock_and_a_resume_moves_the_due_time():
    # Given a 4-hour business target started at 10:00 on Wednesday
    clock = Clock(timedelta(hours=4), running_since=shanghai(2026, 11, 25, 10))
    assert clock.due(SHANGHAI) == shanghai(2026, 11, 25, 14)
    # When the ticket waits on the customer from 11:00 to 16:00
    paused = clock.pause(shanghai(2026, 11, 25, 11), SHANGHAI)
    assert paused.used == timedelta(hours=1) and paused.due(SHANGHAI) is None
    resumed = paused.resume(shanghai(2026, 11, 25, 16))
    # Then three hours remain from 16:00: two today and one on Thursday morning
    assert resumed.due(SHANGHAI) == shanghai(2026, 11, 26, 10)


def test_pausing_twice_or_resuming_a_running_clock_changes_nothing():
    clock = Clock(timedelta(hours=1), running_since=shanghai(2026, 11, 25, 10))
    assert clock.resume(shanghai(2026, 11, 25, 11)) == clock
    paused = clock.pause(shanghai(2026, 11, 25, 10, 30), SHANGHAI)
    assert paused.pause(shanghai(2026, 11, 25, 12), SHANGHAI) == paused


def test_a_calendar_with_no_open_hours_is_an_error():
    with pytest.raises(ValueError, match="no open hours"):
        add(shanghai(2026, 11, 25, 10), timedelta(hours=1), Calendar("Asia/Shanghai", {}))


PRIORITIES = ("low", "normal", "high", "urgent")


def test_a_plan_holds_each_running_targets_ladder_with_due_times_from_the_calendar():
    # Given a ticket whose first-response clock (2 business hours) started at 17:00 on Friday
    started = shanghai(2026, 11, 27, 17)
    clocks = {
        "first_response": Clock(timedelta(hours=2), running_since=started),
        "resolution": Clock(timedelta(hours=8), running_since=started),
    }
    # When its escalation is planned
    planned = plan("t-1", 3, "normal", PRIORITIES, clocks, SHANGHAI)
    # Then the leader hears at Monday 10:00, the admin two business hours later with the priority raised
    first = [s for s in planned["steps"] if s["target"] == "first_response"]
    assert [(s["due_at"], s["level"], s["notify"], s["priority"]) for s in first] == [
        ("2026-11-30T02:00:00Z", 1, "leader", "normal"),
        ("2026-11-30T04:00:00Z", 2, "admin", "high"),
    ]
    assert [s["next_target_index"] for s in planned["steps"]] == [2, 2, 4, 4]
    assert planned["sla_version"] == "3" and planned["count"] == 4 and planned["index"] == 0


def test_a_paused_or_finished_target_plans_nothing():
    clocks = {"first_response": Clock(timedelta(hours=2)), "resolution": Clock(timedelta(hours=8))}
    assert plan("t-1", 1, "urgent", PRIORITIES, clocks, None)["steps"] == []


def test_the_priority_never_rises_past_the_top():
    clocks = {"resolution": Clock(timedelta(minutes=5), running_since=shanghai(2026, 11, 25, 10))}
    steps = plan("t-1", 1, "urgent", PRIORITIES, clocks, None)["steps"]
    assert [s["priority"] for s in steps] == ["urgent", "urgent"]


def test_execution_names_are_one_per_ticket_and_sla_version():
    assert execution_name("t-1", 2) == "t-1-v2" != execution_name("t-1", 3)


def test_each_targets_ladder_raises_from_the_tickets_own_priority():
    # Given both targets running on a normal ticket
    started = shanghai(2026, 11, 25, 10)
    clocks = {target: Clock(timedelta(hours=1), running_since=started) for target in TARGETS}
    # When planned
    steps = plan("t-1", 1, "normal", PRIORITIES, clocks, None)["steps"]
    # Then each target's second level raises normal to high once, never twice in a row
    assert [(s["target"], s["priority"]) for s in steps] == [
        ("first_response", "normal"),
        ("first_response", "high"),
        ("resolution", "normal"),
        ("resolution", "high"),
    ]
    assert steps[0]["target_due_at"] == steps[1]["target_due_at"] == "2026-11-25T03:00:00Z"


def test_stored_policies_override_the_defaults_per_priority():
    policies = policies_from({"urgent": {"first_response_seconds": 600}, "bogus": {"resolution_seconds": 1}})
    assert policies["urgent"].first_response == timedelta(minutes=10)
    assert policies["urgent"].resolution == DEFAULT_POLICIES["urgent"].resolution
    assert policies["normal"] == DEFAULT_POLICIES["normal"] and "bogus" not in policies
    # The seed's rule: a normal ticket untreated for two hours reaches the leader
    assert DEFAULT_POLICIES["normal"].first_response == timedelta(hours=2) and DEFAULT_LADDER[0].notify == "leader"


def test_a_stored_ladder_is_ordered_by_level_and_an_empty_one_is_the_default():
    stored = [
        {"level": 2, "after_seconds": 3600, "notify": "admin", "raise_priority": True},
        {"level": 1, "after_seconds": 0, "notify": "leader"},
    ]
    assert [(rung.level, rung.after, rung.raise_priority) for rung in ladder_from(stored)] == [
        (1, timedelta(0), False),
        (2, timedelta(hours=1), True),
    ]
    assert ladder_from([]) == DEFAULT_LADDER


@pytest.mark.parametrize(
    ("minutes_left", "done", "running", "expected"),
    [
        (60, False, True, "on_track"),
        (30, False, True, "at_risk"),
        (0, False, True, "breached"),
        (-5, False, True, "breached"),
        (60, False, False, "paused"),
        (-5, True, False, "met"),
    ],
)
def test_the_sla_state_of_a_ticket(minutes_left, done, running, expected):
    now = shanghai(2026, 11, 25, 10)
    due = now + timedelta(minutes=minutes_left)
    assert state(due, now, timedelta(minutes=30), done, running) == expected
