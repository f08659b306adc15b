"""The ticket lifecycle's transition table."""

import itertools

import pytest
from shopdesk.errors import InvalidTransition
from shopdesk.ticket_rules import (
    CLOCK_STOPPED,
    STATUSES,
    TRANSITIONS,
    Listed,
    check_transition,
    index_keys,
    is_reopening,
    queue_sort_key,
)

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


def listed(**fields: object) -> Listed:
    base = {
        "ticket_id": "t-1",
        "status": "new",
        "priority": "high",
        "type": "logistics",
        "group_id": "aftersales",
        "assignee_id": "",
        "customer_id": "v-1",
        "created_at": "2026-11-25T10:00:00.000Z",
        "next_due_at": "2026-11-25T12:00:00.000Z",
    }
    return Listed(**{**base, **fields})  # type: ignore[arg-type]


def test_an_open_unassigned_ticket_is_in_its_groups_pool_and_every_live_list():
    keys = index_keys(listed())
    assert (keys["gsi3pk"], keys["gsi3sk"]) == ("TICKETS#POOL#aftersales", "1#2026-11-25T12:00:00.000Z#t-1")
    assert (keys["gsi7pk"], keys["gsi7sk"]) == ("TICKETS#SLA", "2026-11-25T12:00:00.000Z#t-1")
    assert keys["gsi1pk"] == "VTICKETS#v-1" and keys["gsi2pk"] == "TICKETS#STATUS#new"
    assert (keys["gsi4pk"], keys["gsi5pk"], keys["gsi6pk"], keys["gsi8pk"]) == (
        "TICKETS#GROUP#aftersales",
        "TICKETS#PRIORITY#high",
        "TICKETS#TYPE#logistics",
        "TICKETS",
    )
    assert {keys[f"gsi{n}sk"] for n in (1, 2, 4, 5, 6, 8)} == {"2026-11-25T10:00:00.000Z#t-1"}


def test_queues_order_by_priority_then_due_time_and_a_paused_clock_sorts_last():
    urgent_later = queue_sort_key("urgent", "2026-11-26T00:00:00.000Z", "a")
    high_sooner = queue_sort_key("high", "2026-11-25T00:00:00.000Z", "b")
    high_paused = queue_sort_key("high", None, "c")
    assert sorted([high_paused, high_sooner, urgent_later]) == [urgent_later, high_sooner, high_paused]
    paused = index_keys(listed(next_due_at=None))
    assert paused["gsi7sk"] > "9999"  # beyond any due time: on track, never at risk or breached


def test_an_assigned_ticket_is_in_its_agents_work_and_a_resolved_one_leaves_the_sla_list():
    assert index_keys(listed(assignee_id="a-1"))["gsi3pk"] == "TICKETS#AGENT#a-1"
    done = index_keys(listed(assignee_id="a-1", status="resolved", done_at="2026-11-26T00:00:00.000Z"))
    assert (done["gsi3pk"], done["gsi3sk"]) == ("TICKETS#AGENT#a-1#done", "2026-11-26T00:00:00.000Z#t-1")
    assert done["gsi7pk"] is None and done["gsi2pk"] == "TICKETS#STATUS#resolved"


def test_an_archived_ticket_leaves_the_live_lists_but_not_the_customers():
    keys = index_keys(listed(status="closed", archived_at="2027-02-25T00:00:00.000Z"))
    assert keys["gsi1pk"] == "VTICKETS#v-1" and keys["gsi2pk"] == "TICKETS#ARCHIVE#2027-02"
    assert all(keys[f"gsi{n}pk"] is None for n in range(3, 9))
