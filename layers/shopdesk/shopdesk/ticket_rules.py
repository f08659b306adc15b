"""What a ticket may be, and which status changes its lifecycle allows."""

from __future__ import annotations

from collections.abc import Mapping

from shopdesk.errors import InvalidTransition

TYPES = ("complaint", "suggestion", "after_sales", "logistics", "technical", "other")
PRIORITIES = ("low", "normal", "high", "urgent")

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
