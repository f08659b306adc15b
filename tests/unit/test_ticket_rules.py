"""The ticket lifecycle's transition table."""

import itertools

import pytest
from shopdesk.errors import InvalidTransition
from shopdesk.ticket_rules import CLOCK_STOPPED, STATUSES, TRANSITIONS, check_transition, is_reopening

pytestmark = pytest.mark.unit

LIFECYCLE = ["new", "processing", "pending", "transferred", "resolved", "closed"]


def test_the_main_lifecycle_is_allowed_step_by_step():
    for current, wanted in itertools.pairwise(LIFECYCLE):
        check_transition(current, wanted)


@pytest.mark.parametrize("done", ["resolved", "closed"])
def test_a_resolved_or_closed_ticket_can_be_reopened(done):
    check_transition(done, "processing")
    assert is_reopening(done, "processing")
    assert not is_reopening("pending", "processing")


@pytest.mark.parametrize(
    ("current", "wanted"),
    [("closed", "resolved"), ("processing", "new"), ("resolved", "pending"), ("pending", "closed"), ("new", "new")],
)
def test_other_changes_are_refused_with_a_code_that_names_the_choices(current, wanted):
    with pytest.raises(InvalidTransition) as refused:
        check_transition(current, wanted)
    assert refused.value.code == "invalid_transition" and refused.value.status == 409
    assert refused.value.details == {"current": current, "wanted": wanted}


def test_an_unknown_status_has_no_way_out():
    with pytest.raises(InvalidTransition, match="none"):
        check_transition("archived", "processing")


def test_every_target_is_a_known_status_and_the_clock_stops_where_nobody_works():
    assert all(targets <= set(STATUSES) for targets in TRANSITIONS.values())
    assert set(STATUSES) - CLOCK_STOPPED == {"new", "processing", "transferred"}
