"""SLA clock arithmetic: due times on a store's business calendar, with pauses.

Pure functions of a calendar and instants (UTC-aware datetimes). A policy counts either around
the clock or only business hours; time spent pending on the customer is not counted at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

MAX_DAYS_AHEAD = 3660  # a calendar with no open day would otherwise never end


@dataclass(frozen=True)
class Calendar:
    """Weekly hours (Monday = 0) in a timezone, minus holidays."""

    timezone: str = "Asia/Shanghai"
    weekly: Mapping[int, tuple[time, time]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()

    @classmethod
    def from_settings(
        cls, timezone: str, weekly: Mapping[str, Sequence[str]], holidays: Iterable[str] = ()
    ) -> Calendar:
        """From the stored shape: {"0": ["09:00", "18:00"], …}; "24:00" closes at midnight."""
        hours = {int(day): (_clock_time(window[0]), _clock_time(window[1])) for day, window in weekly.items()}
        return cls(timezone, hours, frozenset(date.fromisoformat(day) for day in holidays))

    def windows(self, start: datetime) -> Iterable[tuple[datetime, datetime]]:
        """Open intervals in UTC, from the day `start` falls on, in order."""
        zone = ZoneInfo(self.timezone)
        day = start.astimezone(zone).date()
        for offset in range(MAX_DAYS_AHEAD):
            current = day + timedelta(days=offset)
            hours = self.weekly.get(current.weekday())
            if hours is None or current in self.holidays:
                continue
            opens = datetime.combine(current, hours[0], tzinfo=zone)
            closes = (
                datetime.combine(current + timedelta(days=1), time(0), tzinfo=zone)
                if hours[1] == time(0)
                else datetime.combine(current, hours[1], tzinfo=zone)
            )
            yield opens.astimezone(UTC), closes.astimezone(UTC)


def _clock_time(text: str) -> time:
    return time(0) if text == "24:00" else time.fromisoformat(text)


def add(start: datetime, duration: timedelta, calendar: Calendar | None) -> datetime:
    """The instant `duration` of counted time after `start`; around the clock when calendar is None."""
    if calendar is None or duration <= timedelta(0):
        return start + max(duration, timedelta(0))
    left = duration
    for opens, closes in calendar.windows(start):
        if closes <= start:
            continue
        begin = max(opens, start)
        if closes - begin >= left:
            return begin + left
        left -= closes - begin
    raise ValueError("the calendar has no open hours")


def counted(start: datetime, end: datetime, calendar: Calendar | None) -> timedelta:
    """Counted time between two instants: all of it, or only the business hours."""
    if end <= start:
        return timedelta(0)
    if calendar is None:
        return end - start
    total = timedelta(0)
    for opens, closes in calendar.windows(start):
        if opens >= end:
            break
        overlap = min(closes, end) - max(opens, start)
        total += max(overlap, timedelta(0))
    return total


@dataclass(frozen=True)
class Clock:
    """One SLA target's clock: how much counted time it has used, and since when it runs."""

    target: timedelta
    used: timedelta = timedelta(0)
    running_since: datetime | None = None

    def pause(self, at: datetime, calendar: Calendar | None) -> Clock:
        if self.running_since is None:
            return self
        return Clock(self.target, self.used + counted(self.running_since, at, calendar), None)

    def resume(self, at: datetime) -> Clock:
        return self if self.running_since is not None else Clock(self.target, self.used, at)

    def due(self, calendar: Calendar | None) -> datetime | None:
        """When the target is breached if the clock keeps running; None while paused."""
        if self.running_since is None:
            return None
        return add(self.running_since, max(self.target - self.used, timedelta(0)), calendar)


TARGETS = ("first_response", "resolution")


@dataclass(frozen=True)
class Level:
    """One rung of the escalation ladder: `after` the due time (counted like the target), tell `notify`."""

    level: int
    after: timedelta
    notify: str
    raise_priority: bool = False


# The seed's ladder: when the 2-hour target passes, the group leader hears; two hours later the admin
# hears and the ticket's priority goes up a step.
DEFAULT_LADDER = (
    Level(1, timedelta(0), "leader"),
    Level(2, timedelta(hours=2), "admin", raise_priority=True),
)


def raised(priority: str, priorities: Sequence[str]) -> str:
    index = priorities.index(priority)
    return priorities[min(index + 1, len(priorities) - 1)]


def plan(
    ticket_id: str,
    sla_version: int,
    priority: str,
    priorities: Sequence[str],
    clocks: Mapping[str, Clock],
    calendar: Calendar | None,
    ladder: Sequence[Level] = DEFAULT_LADDER,
) -> dict[str, Any]:
    """The state machine's input: every escalation step of every running target, in time order per target.

    Due times are computed here, from the calendar; a paused clock plans nothing.
    """
    steps: list[dict[str, Any]] = []
    for target in TARGETS:
        clock = clocks.get(target)
        due = clock.due(calendar) if clock is not None else None
        if due is None:
            continue
        first = len(steps)
        current = priority  # each target's ladder raises from the ticket's own priority, never twice
        for rung in ladder:
            current = raised(current, priorities) if rung.raise_priority else current
            steps.append(
                {
                    "target": target,
                    "target_due_at": stamp(due),
                    "due_at": stamp(add(due, rung.after, calendar)),
                    "level": rung.level,
                    "notify": rung.notify,
                    "priority": current,
                }
            )
        for step in steps[first:]:
            step["next_target_index"] = len(steps)
    return {"ticket_id": ticket_id, "sla_version": str(sla_version), "steps": steps, "count": len(steps), "index": 0}


def stamp(moment: datetime) -> str:
    """Whole seconds, the form Step Functions' TimestampPath accepts."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Policy:
    """One priority's targets, and whether they count business hours only."""

    first_response: timedelta
    resolution: timedelta
    business_hours: bool = False

    def target(self, name: str) -> timedelta:
        return self.first_response if name == "first_response" else self.resolution


# The seed's rule: a ticket untreated for two hours reaches the group leader (normal priority).
DEFAULT_POLICIES = {
    "urgent": Policy(timedelta(minutes=30), timedelta(hours=4)),
    "high": Policy(timedelta(hours=1), timedelta(hours=8)),
    "normal": Policy(timedelta(hours=2), timedelta(hours=24), business_hours=True),
    "low": Policy(timedelta(hours=4), timedelta(hours=72), business_hours=True),
}


def policies_from(stored: Mapping[str, Any]) -> dict[str, Policy]:
    """The store's policies over the defaults: {"high": {"first_response_seconds": 3600, …}}."""
    policies = dict(DEFAULT_POLICIES)
    for priority, value in stored.items():
        if priority in policies and isinstance(value, Mapping):
            base = policies[priority]
            policies[priority] = Policy(
                timedelta(seconds=float(value.get("first_response_seconds", base.first_response.total_seconds()))),
                timedelta(seconds=float(value.get("resolution_seconds", base.resolution.total_seconds()))),
                bool(value.get("business_hours", base.business_hours)),
            )
    return policies


def ladder_from(stored: Sequence[Mapping[str, Any]]) -> tuple[Level, ...]:
    """The store's ladder ([{"level", "after_seconds", "notify", "raise_priority"}]), or the default."""
    if not stored:
        return DEFAULT_LADDER
    return tuple(
        Level(
            int(rung["level"]),
            timedelta(seconds=float(rung["after_seconds"])),
            str(rung["notify"]),
            bool(rung.get("raise_priority", False)),
        )
        for rung in sorted(stored, key=lambda rung: int(rung["level"]))
    )


SLA_STATES = ("on_track", "at_risk", "breached")


def state(next_due: datetime | None, now: datetime, at_risk: timedelta, done: bool, running: bool) -> str:
    """on_track / at_risk / breached for a running clock; paused while it waits; met once done."""
    if done:
        return "met"
    if not running or next_due is None:
        return "paused"
    if next_due <= now:
        return "breached"
    return "at_risk" if next_due - now <= at_risk else "on_track"


def execution_name(ticket_id: str, sla_version: int) -> str:
    """One execution per ticket and SLA version: Step Functions refuses a second start of the same name."""
    return f"{ticket_id}-v{sla_version}"[:80]
