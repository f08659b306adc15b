"""The bot's counters, added to at event time per store and group, per store-local day and 3-minute window.

The supervisor view reads the current window and day directly: its cost follows the number of
groups, never the store's history.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shopdesk import keys
from shopdesk.clock import Clock, iso
from shopdesk.db import transaction
from shopdesk.models import BotStatsModel

WINDOW_SECONDS = 180
WINDOW_KEEP = timedelta(days=2)
COUNTERS = ("consults", "transfers", "resolved", "answered", "first_question_clicks", "unanswered")


def window_start(moment: datetime) -> datetime:
    epoch = int(moment.timestamp()) // WINDOW_SECONDS * WINDOW_SECONDS
    return datetime.fromtimestamp(epoch, tz=moment.tzinfo)


def local_day(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).date().isoformat()


def scopes(group_id: str) -> list[str]:
    return ["STORE", f"GROUP#{group_id}"] if group_id else ["STORE"]


class BotStats:
    def __init__(self, clock: Clock, timezone: Any) -> None:
        self._clock = clock
        self._timezone = timezone  # a callable: the store's timezone can change while a container lives

    def add(self, group_id: str, counts: Mapping[str, int], replied_to: str | None = None) -> None:
        """One transaction: every scope's day and window move together, or none does.

        `replied_to` is a buyer the bot answered: one of the shop's receptions today, kept as a set.
        """
        counts = {name: n for name, n in counts.items() if n}
        if not counts and replied_to is None:
            return
        now = self._clock.now()
        window = iso(window_start(now))
        expires = int((now + WINDOW_KEEP).timestamp())
        day = local_day(now, self._timezone())
        with transaction() as tx:
            for scope in scopes(group_id):
                for sk, ttl in ((keys.stats_day_sk(day), None), (keys.stats_window_sk(window), expires)):
                    actions: list[Any] = [getattr(BotStatsModel, name).add(n) for name, n in counts.items()]
                    if ttl is not None:
                        actions.append(BotStatsModel.expires_at.set(ttl))
                    elif scope == "STORE" and replied_to is not None:
                        actions.append(BotStatsModel.buyers.add({replied_to}))
                    if not actions:
                        continue
                    tx.update(f"{scope}{sk}", BotStatsModel(keys.bot_stats_pk(scope), sk), actions)

    def day(self, scope: str, day: str | None = None) -> dict[str, Any]:
        day = day or local_day(self._clock.now(), self._timezone())
        return {"day": day, **self._read(scope, keys.stats_day_sk(day))}

    def window(self, scope: str, start: datetime) -> dict[str, Any]:
        return {"window_start": iso(start), **self._read(scope, keys.stats_window_sk(iso(start)))}

    @staticmethod
    def _read(scope: str, sk: str) -> dict[str, Any]:
        try:
            item = BotStatsModel.get(keys.bot_stats_pk(scope), sk)
        except BotStatsModel.DoesNotExist:
            item = BotStatsModel(keys.bot_stats_pk(scope), sk)
        figures: dict[str, Any] = {name: int(getattr(item, name) or 0) for name in COUNTERS}
        consults = figures["consults"]
        # Transfers can outnumber consults within a window (consulted earlier, handed over now).
        figures["transfer_rate"] = round(figures["transfers"] / consults, 4) if consults else None
        return figures
