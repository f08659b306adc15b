"""The store's SLA settings: targets per priority, business calendar, escalation ladder, windows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pynamodb.expressions.update import Action

from shopdesk import sla
from shopdesk.errors import ValidationFailed
from shopdesk.hours import DEFAULT_WEEKLY
from shopdesk.models import BusinessHours, StoreConfigModel
from shopdesk.repositories import StoreRepository
from shopdesk.store import StoreSettings, plain
from shopdesk.ticket_rules import PRIORITIES

NOTIFY = ("leader", "admin")
MAX_LEVELS = 5
MAX_HOLIDAYS = 100


@dataclass(frozen=True)
class SlaSettings:
    timezone: str
    weekly: Mapping[str, Sequence[str]]
    holidays: Sequence[str]
    policies: Mapping[str, Mapping[str, Any]]  # priority → first_response_minutes, resolution_minutes, business_hours
    ladder: Sequence[Mapping[str, Any]]  # level, after_minutes, notify, raise_priority
    at_risk_minutes: int
    retention_days: int


class SlaPolicies:
    def __init__(self, repo: StoreRepository, store: StoreSettings) -> None:
        self._repo = repo
        self._store = store

    def current(self) -> dict[str, Any]:
        config = self._repo.config()
        policies = sla.policies_from(plain(config.sla_policies))
        ladder = sla.ladder_from(list(config.escalation_ladder or []))
        hours = config.business_hours
        return {
            "timezone": hours.timezone or "Asia/Shanghai",
            "weekly": plain(hours.weekly) or DEFAULT_WEEKLY,
            "holidays": list(config.holidays or []),
            "policies": {
                priority: {
                    "first_response_minutes": policy.first_response / timedelta(minutes=1),
                    "resolution_minutes": policy.resolution / timedelta(minutes=1),
                    "business_hours": policy.business_hours,
                }
                for priority, policy in policies.items()
            },
            "ladder": [
                {
                    "level": rung.level,
                    "after_minutes": rung.after / timedelta(minutes=1),
                    "notify": rung.notify,
                    "raise_priority": rung.raise_priority,
                }
                for rung in ladder
            ],
            "at_risk_minutes": int(config.at_risk_minutes),
            "retention_days": int(config.ticket_retention_days),
        }

    def update(self, **fields: Any) -> dict[str, Any]:
        """Checks everything first, then writes once: a bad field leaves the settings as they were."""
        wanted = SlaSettings(**fields)
        self._check(wanted)
        config = self._repo.config()
        hours = BusinessHours(timezone=wanted.timezone, weekly={day: list(w) for day, w in wanted.weekly.items()})
        actions: list[Action] = [
            StoreConfigModel.business_hours.set(hours),
            StoreConfigModel.holidays.set(sorted(set(wanted.holidays))),
            StoreConfigModel.sla_policies.set(
                {
                    priority: {
                        "first_response_seconds": float(policy["first_response_minutes"]) * 60,
                        "resolution_seconds": float(policy["resolution_minutes"]) * 60,
                        "business_hours": bool(policy["business_hours"]),
                    }
                    for priority, policy in wanted.policies.items()
                }
            ),
            StoreConfigModel.escalation_ladder.set(
                [
                    {
                        "level": int(rung["level"]),
                        "after_seconds": float(rung["after_minutes"]) * 60,
                        "notify": str(rung["notify"]),
                        "raise_priority": bool(rung.get("raise_priority", False)),
                    }
                    for rung in wanted.ladder
                ]
            ),
            StoreConfigModel.at_risk_minutes.set(wanted.at_risk_minutes),
            StoreConfigModel.ticket_retention_days.set(wanted.retention_days),
        ]
        config.update(actions=actions)
        self._store.refresh()
        return self.current()

    @staticmethod
    def _check(wanted: SlaSettings) -> None:
        try:
            ZoneInfo(wanted.timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValidationFailed("Unknown timezone.", field="timezone") from error
        for day, window in wanted.weekly.items():
            if day not in {str(d) for d in range(7)} or len(window) != 2 or not window[0] < window[1]:
                raise ValidationFailed('Weekly hours are {"0".. "6": ["HH:MM", "HH:MM"]}.', field="weekly")
        if len(wanted.holidays) > MAX_HOLIDAYS:
            raise ValidationFailed(f"At most {MAX_HOLIDAYS} holidays.", field="holidays")
        for holiday in wanted.holidays:
            try:
                date.fromisoformat(holiday)
            except ValueError as error:
                raise ValidationFailed(f"{holiday!r} is not a date (YYYY-MM-DD).", field="holidays") from error
        if set(wanted.policies) - set(PRIORITIES):
            raise ValidationFailed(f"Policies are per priority: {', '.join(PRIORITIES)}.", field="policies")
        for priority, policy in wanted.policies.items():
            if float(policy["resolution_minutes"]) < float(policy["first_response_minutes"]):
                raise ValidationFailed(
                    f"The {priority} resolution target cannot be shorter than its first-response target.",
                    field="policies",
                )
        levels = [int(rung["level"]) for rung in wanted.ladder]
        if not 1 <= len(levels) <= MAX_LEVELS or levels != list(range(1, len(levels) + 1)):
            raise ValidationFailed(f"Ladder levels run 1, 2, … (at most {MAX_LEVELS}).", field="ladder")
        afters = [float(rung["after_minutes"]) for rung in wanted.ladder]
        if afters != sorted(afters):
            raise ValidationFailed("Each ladder level comes no earlier than the one before.", field="ladder")
        if any(rung["notify"] not in NOTIFY for rung in wanted.ladder):
            raise ValidationFailed(f"A level notifies one of: {', '.join(NOTIFY)}.", field="ladder")
