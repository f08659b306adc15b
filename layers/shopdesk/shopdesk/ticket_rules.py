"""What a ticket may be, and which status changes its lifecycle allows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shopdesk.errors import InvalidTransition

TYPES = ("complaint", "suggestion", "after_sales", "logistics", "technical", "other")
PRIORITIES = ("low", "normal", "high", "urgent")
SOURCES = ("agent", "widget", "unsolved_chat", "offline_message")
MAX_DESCRIPTION_CHARS = 4000

# new → processing → pending (on the customer) → transferred → resolved → closed; both ends reopen.
TRANSITIONS: Mapping[str, frozenset[str]] = {
    "new": frozenset({"processing", "pending", "transferred", "resolved", "closed"}),
    "processing": frozenset({"pending", "transferred", "resolved"}),
    "pending": frozenset({"processing", "transferred", "resolved"}),
    "transferred": frozenset({"processing", "pending", "resolved"}),
    "resolved": frozenset({"closed", "processing"}),
    "closed": frozenset({"processing"}),
}
STATUSES = tuple(TRANSITIONS)
# The SLA clock stops while the ticket waits on the customer, and once it is done.
CLOCK_STOPPED = frozenset({"pending", "resolved", "closed"})
DONE = frozenset({"resolved", "closed"})
# Queues put urgent first; the rank is the first part of the queue sort key.
PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
# A ticket whose clock is paused sorts after every due time, and so counts as on track.
NO_DUE = "~"


def check_transition(current: str, wanted: str) -> None:
    if wanted not in TRANSITIONS.get(current, frozenset()):
        allowed = ", ".join(sorted(TRANSITIONS.get(current, frozenset()))) or "none"
        raise InvalidTransition(
            f"A {current} ticket cannot become {wanted}; it can become: {allowed}.",
            current=current,
            wanted=wanted,
        )


def is_reopening(current: str, wanted: str) -> bool:
    return current in ("resolved", "closed") and wanted == "processing"


def allowed_next(current: str) -> list[str]:
    return sorted(TRANSITIONS.get(current, frozenset()))


@dataclass(frozen=True)
class Listed:
    """What a ticket's list keys depend on."""

    ticket_id: str
    status: str
    priority: str
    type: str
    group_id: str
    assignee_id: str
    customer_id: str
    created_at: str
    next_due_at: str | None
    done_at: str | None = None
    archived_at: str | None = None


def queue_sort_key(priority: str, due_at: str | None, ticket_id: str) -> str:
    """Priority first, then the nearest due time: how a department queue or an agent's work is ordered."""
    return f"{PRIORITY_RANK[priority]}#{due_at or NO_DUE}#{ticket_id}"


def priority_list(priority: str) -> str:
    return f"TICKETS#PRIORITY#{priority}"


def index_keys(ticket: Listed) -> dict[str, str | None]:
    """Every list key of a ticket (docs/data-model.md); None removes the ticket from that list.

    Archived tickets leave the live lists and stay only in the customer's list and a monthly archive.
    """
    created = f"{ticket.created_at}#{ticket.ticket_id}"
    keys: dict[str, str | None] = {f"gsi{n}{part}": None for n in range(1, 9) for part in ("pk", "sk")}
    if ticket.customer_id:
        keys.update(gsi1pk=f"VTICKETS#{ticket.customer_id}", gsi1sk=created)
    if ticket.archived_at:
        keys.update(gsi2pk=f"TICKETS#ARCHIVE#{ticket.archived_at[:7]}", gsi2sk=created)
        return keys
    owner = f"TICKETS#AGENT#{ticket.assignee_id}" if ticket.assignee_id else f"TICKETS#POOL#{ticket.group_id}"
    if ticket.status in DONE:
        keys.update(gsi3pk=f"{owner}#done", gsi3sk=f"{ticket.done_at or ticket.created_at}#{ticket.ticket_id}")
    else:
        keys.update(
            gsi3pk=owner,
            gsi3sk=queue_sort_key(ticket.priority, ticket.next_due_at, ticket.ticket_id),
            gsi7pk="TICKETS#SLA",
            gsi7sk=f"{ticket.next_due_at or NO_DUE}#{ticket.ticket_id}",
        )
    keys.update(
        gsi2pk=f"TICKETS#STATUS#{ticket.status}",
        gsi2sk=created,
        gsi4pk=f"TICKETS#GROUP#{ticket.group_id}",
        gsi4sk=created,
        gsi5pk=priority_list(ticket.priority),
        gsi5sk=created,
        gsi6pk=f"TICKETS#TYPE#{ticket.type}",
        gsi6sk=created,
        gsi8pk="TICKETS",
        gsi8sk=created,
    )
    return keys
