"""Business hours: is the store open at a given moment, in its own timezone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

DEFAULT_WEEKLY: dict[str, list[str]] = {str(day): ["09:00", "23:00"] for day in range(7)}


def is_open(moment: datetime, timezone: str, weekly: Mapping[str, Sequence[str]]) -> bool:
    local = moment.astimezone(ZoneInfo(timezone))
    window = weekly.get(str(local.weekday()))
    if not window:
        return False
    opens, closes = window
    now = local.strftime("%H:%M")
    return opens <= now < closes
