"""The supervisor's refresh: reads the current counters, computes the figures, keeps a snapshot and a trend
point, pushes it to every connected leader and admin, and sends the threshold alerts.

Its reads follow the store's size, never its history: one Query of the agents and one of the groups,
one count of waiting chats per busy agent and per group queue, and BatchGetItems of the agents' and
groups' current counter items.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import PutError

from shopdesk import keys
from shopdesk.alerts import AlertSettings
from shopdesk.bot_stats import WINDOW_SECONDS, local_day, window_start
from shopdesk.clock import Clock, iso
from shopdesk.metrics import Counters, Metrics
from shopdesk.models import AgentModel, BotStatsModel, GroupModel, MonitorModel, SessionModel
from shopdesk.monitoring import (
    AgentCounters,
    DayCounters,
    GroupCounters,
    Snapshot,
    day_figures,
    evaluate,
    group_figures,
    message_text,
    shop_figures,
    snapshot_json,
)
from shopdesk.notify import Connections
from shopdesk.repositories import BATCH_LIMIT, AgentRepository, GroupRepository, batch_items

CLICK_WINDOWS = 10  # first-question clicks over the last half hour: ten 3-minute windows
TREND_KEEP = timedelta(days=35)
FIGURE_NAMES = {
    "avg_response_seconds": "平均响应时间",
    "pending_per_agent": "人均待回复",
    "pending": "待回复",
    "bot_transfer_rate": "转人工率",
}


class Monitor:
    def __init__(
        self,
        clock: Clock,
        timezone: Any,
        agents: AgentRepository,
        groups: GroupRepository,
        metrics: Metrics,
        alerts: AlertSettings,
        connections: Connections,
    ) -> None:
        self._clock = clock
        self._timezone = timezone  # a callable: the store's timezone may change while a container lives
        self._agents = agents
        self._groups = groups
        self._metrics = metrics
        self._alerts = alerts
        self._connections = connections

    # --- reading ---------------------------------------------------------------------------------

    def latest(self) -> dict[str, Any] | None:
        try:
            item = MonitorModel.get(keys.MONITOR_PK, keys.LATEST_SK)
        except MonitorModel.DoesNotExist:
            return None
        body: dict[str, Any] = json.loads(item.body)
        return body

    def trend(self, day: str) -> list[dict[str, Any]]:
        """The day's points, one per refresh: a Query of that day only."""
        points = []
        for item in MonitorModel.query(keys.monitor_day_pk(day)):
            shop = json.loads(item.body)["shop"]
            points.append(
                {
                    "at": item.as_of,
                    "receptions": shop["today"]["receptions"],
                    "pending": shop["now"]["pending"],
                    "avg_response_seconds": shop["now"]["avg_response_seconds"],
                }
            )
        return points

    # --- the refresh -----------------------------------------------------------------------------

    def refresh(self, send_alerts: bool) -> dict[str, Any]:
        """Every 3 minutes on the schedule (with alerts), and on demand (figures only)."""
        now = self._clock.now()
        day = local_day(now, self._timezone())
        agents = self._agents.all()
        groups = self._groups.all()
        counters = self._metrics.read([a.agent_id for a in agents], day, self._metrics.previous_window(now))
        agent_counters = [self._agent_counters(agent, counters) for agent in agents]
        group_counters = self._group_counters(groups, now)
        today = self._day_counters(counters)
        shop = shop_figures(today, agent_counters, group_counters)
        group_figs = tuple(group_figures(group, agent_counters) for group in group_counters)
        settings = self._alerts.get()
        shop_level, group_levels = self._alerts.levels(settings)
        round_ = evaluate(shop, group_figs, shop_level, group_levels)
        snapshot = snapshot_json(
            Snapshot(iso(now), day, shop, self._closed_day(self._yesterday(now)), group_figs, round_)
        )
        self._save(snapshot, now)
        self._push(agents, snapshot)
        if send_alerts and round_.messages:
            names = {a.agent_id: a.name for a in agents} | {g.group_id: g.name for g in groups}
            self._alerts.send([(m, message_text(m, FIGURE_NAMES, names)) for m in round_.messages])
        return snapshot

    def close_day(self) -> str:
        """Freezes yesterday's figures, once, for the comparison all day today.

        It runs every hour, so the first run after midnight in the store's timezone, wherever that
        is, closes the day; the other runs find it closed with one read.
        """
        yesterday = self._yesterday(self._clock.now())
        if self._closed_day(yesterday) is not None:
            return yesterday
        agents = self._agents.all()
        window = self._metrics.previous_window(self._clock.now())
        counters = self._metrics.read([a.agent_id for a in agents], yesterday, window)
        figures = day_figures(self._day_counters(counters))
        try:
            MonitorModel(
                keys.MONITOR_PK,
                f"DAY#{yesterday}",
                as_of=iso(self._clock.now()),
                day=yesterday,
                body=json.dumps(figures),
            ).save(condition=MonitorModel.pk.does_not_exist())
        except PutError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
        return yesterday

    # --- helpers ---------------------------------------------------------------------------------

    def _yesterday(self, now: datetime) -> str:
        return local_day(now - timedelta(days=1), self._timezone())

    def _closed_day(self, day: str) -> dict[str, Any] | None:
        try:
            figures: dict[str, Any] = json.loads(MonitorModel.get(keys.MONITOR_PK, f"DAY#{day}").body)
        except MonitorModel.DoesNotExist:
            return None
        return figures

    @staticmethod
    def _agent_counters(agent: AgentModel, counters: Counters) -> AgentCounters:
        day = counters.days.get(agent.agent_id)
        window = counters.windows.get(agent.agent_id)
        # Only an agent holding chats can have customers waiting: the idle ones cost no request.
        pending = _waiting(keys.agent_sessions_gsi(agent.agent_id, "active")) if int(agent.active_count) > 0 else 0
        return AgentCounters(
            agent_id=agent.agent_id,
            name=agent.name,
            group_ids=tuple(agent.group_ids or ()),
            online=agent.status == "online",
            suspended=bool(agent.suspended),
            pending=pending,
            buyers_today=frozenset(day.buyers or ()) if day is not None else frozenset(),
            response_ms_sum=int(window.response_ms) if window is not None else 0,
            response_count=int(window.responses) if window is not None else 0,
        )

    def _group_counters(self, groups: list[GroupModel], now: datetime) -> list[GroupCounters]:
        current = window_start(now)
        windows = [iso(current - timedelta(seconds=WINDOW_SECONDS * n)) for n in range(1, CLICK_WINDOWS + 1)]
        wanted = [(keys.bot_stats_pk(f"GROUP#{g.group_id}"), keys.stats_window_sk(w)) for g in groups for w in windows]
        stats: dict[tuple[str, str], BotStatsModel] = {}
        for start in range(0, len(wanted), BATCH_LIMIT):
            for raw in batch_items(wanted[start : start + BATCH_LIMIT]):
                stats[(raw["pk"]["S"], raw["sk"]["S"])] = BotStatsModel.from_raw_data(raw)
        previous = keys.stats_window_sk(windows[0])
        result = []
        for group in groups:
            pk = keys.bot_stats_pk(f"GROUP#{group.group_id}")
            last = stats.get((pk, previous))
            clicks = sum(
                int(item.first_question_clicks)
                for item in (stats.get((pk, keys.stats_window_sk(w))) for w in windows)
                if item is not None
            )
            result.append(
                GroupCounters(
                    group_id=group.group_id,
                    name=group.name,
                    queued_pending=_waiting(keys.queue_gsi(group.group_id)),
                    bot_consults=int(last.consults) if last is not None else 0,
                    bot_transfers=int(last.transfers) if last is not None else 0,
                    bot_first_question_clicks=clicks,
                )
            )
        return result

    @staticmethod
    def _day_counters(counters: Counters) -> DayCounters:
        shop, bot = counters.shop, counters.bot
        return DayCounters(
            agent_buyers=frozenset(b for d in counters.days.values() for b in (d.buyers or ())),
            bot_buyers=frozenset(bot.buyers or ()) if bot is not None else frozenset(),
            inquiring_buyers=frozenset(shop.inquiring or ()) if shop is not None else frozenset(),
            guided_buyers=frozenset(shop.guided_buyers or ()) if shop is not None else frozenset(),
            guided_amount_cents=int(shop.guided_amount_cents) if shop is not None else 0,
        )

    def _save(self, snapshot: dict[str, Any], now: datetime) -> None:
        body = json.dumps(snapshot, ensure_ascii=False)
        common = {"as_of": snapshot["as_of"], "day": snapshot["day"], "body": body}
        MonitorModel(keys.MONITOR_PK, keys.LATEST_SK, **common).save()
        MonitorModel(
            keys.monitor_day_pk(snapshot["day"]),
            snapshot["as_of"],
            expires_at=int((now + TREND_KEEP).timestamp()),
            **common,
        ).save()

    def _push(self, agents: list[AgentModel], snapshot: dict[str, Any]) -> None:
        supervisors = [keys.principal_key("agent", a.agent_id) for a in agents if a.role in ("leader", "admin")]
        if supervisors:
            self._connections.send_to(supervisors, {"type": "monitor", "snapshot": snapshot})


def _waiting(owner: str) -> int:
    """Chats of one owner (an agent's active ones, or a group's queue) with unread customer messages."""
    return int(SessionModel.by_owner.count(owner, filter_condition=SessionModel.awaiting_since.exists()))
