"""The supervisor's real-time monitoring: figures computed from counters, and the threshold-alert rules.

Pure: callers read the counters (today's buyers, the previous 3-minute window, the agents' state now)
and hand them in; this module only defines what each figure means and which alerts a round raises.
Definitions follow the 客户服务平台 supervisor edition:

- a shop's receptions de-duplicate buyers; an agent's do not (a buyer transferred from A to B counts
  for both);
- a suspended agent is still online, so it counts in every "per online agent" divisor;
- an average over nobody, a rate over zero, is None (not shown), never 0;
- a figure is red when it is strictly over its threshold; a level whose switch is off raises nothing;
- a group is busy when it alerts itself or more than 1/3 of its online agents alert;
- when the shop alerts, only the shop-level message is sent that round.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SHOP_FIGURES = (
    "receptions",
    "guided_amount_cents",
    "guided_buyers",
    "conversion_rate",
    "avg_response_seconds",
    "pending_per_agent",
    "online",
    "suspended",
)
GROUP_FIGURES = (
    "pending",
    "pending_per_agent",
    "online",
    "suspended",
    "bot_consults",
    "bot_transfers",
    "bot_transfer_rate",
    "bot_first_question_clicks",
)
AGENT_FIGURES = ("receptions", "pending", "avg_response_seconds")

# Figures that may carry a threshold; each alerts when its value is OVER the threshold. Rates are
# ratios (1.0 = 100%), so a transfer-rate threshold of 0.8 means 80%.
SHOP_ALERTABLE: tuple[str, ...] = ("avg_response_seconds", "pending_per_agent")
GROUP_ALERTABLE: tuple[str, ...] = ("pending", "pending_per_agent", "bot_transfer_rate")
AGENT_ALERTABLE: tuple[str, ...] = ("pending", "avg_response_seconds")

MAX_RECIPIENTS = 10
BUSY = "busy"
NORMAL = "normal"

_SECONDS_FIGURES = frozenset({"avg_response_seconds"})
_RATIO_FIGURES = frozenset({"conversion_rate", "pending_per_agent", "bot_transfer_rate"})
_PERCENT_FIGURES = frozenset({"conversion_rate", "bot_transfer_rate"})
_SMS_MAX_ITEMS = 4  # an SMS says what is red; the dashboard has the rest

_NAMES: Mapping[str, Mapping[str, str]] = {
    "shop": {
        "receptions": "今日累计接待",
        "guided_amount_cents": "今日引导销售额",
        "guided_buyers": "今日引导付款人数",
        "conversion_rate": "转化率",
        "avg_response_seconds": "平均响应时间",
        "pending_per_agent": "人均待回复",
        "online": "在线",
        "suspended": "挂起",
    },
    "group": {
        "pending": "组待回复",
        "pending_per_agent": "组人均待回复",
        "online": "在线",
        "suspended": "挂起",
        "bot_consults": "咨询人数",
        "bot_transfers": "转交客服数",
        "bot_transfer_rate": "转人工率",
        "bot_first_question_clicks": "首问语点击量",
    },
    "agent": {
        "receptions": "今日接待",
        "pending": "待回复",
        "avg_response_seconds": "平均响应时间",
    },
}


# --- counters in --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentCounters:
    """One agent, now: its state, today's buyers and the previous 3-minute window's responses."""

    agent_id: str
    name: str
    group_ids: tuple[str, ...]
    online: bool  # status online (suspended agents are still online)
    suspended: bool
    pending: int  # its conversations with unread customer messages, now
    buyers_today: frozenset[str]  # buyers it replied to today (its receptions = len)
    response_ms_sum: int  # previous 3-minute window, replies that happened only
    response_count: int


@dataclass(frozen=True)
class GroupCounters:
    """One group's own counters: its queue and its bot (服务助手)."""

    group_id: str
    name: str
    queued_pending: int  # queued conversations with unread customer messages (not yet with an agent)
    bot_consults: int  # previous 3-minute window
    bot_transfers: int
    bot_first_question_clicks: int  # last half hour


@dataclass(frozen=True)
class DayCounters:
    """A store-local day's buyer sets, so the shop can de-duplicate them."""

    agent_buyers: frozenset[str]  # every buyer an agent replied to that day
    bot_buyers: frozenset[str]  # every buyer the bot replied to that day
    inquiring_buyers: frozenset[str]
    guided_buyers: frozenset[str]
    guided_amount_cents: int


# --- figures out --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentFigures:
    agent_id: str
    name: str
    online: bool
    suspended: bool
    receptions: int
    pending: int
    avg_response_seconds: float | None


@dataclass(frozen=True)
class GroupFigures:
    group_id: str
    name: str
    pending: int
    pending_per_agent: float | None
    online: int
    suspended: int
    bot_consults: int
    bot_transfers: int
    bot_transfer_rate: float | None
    bot_first_question_clicks: int
    agents: tuple[AgentFigures, ...]


@dataclass(frozen=True)
class ShopFigures:
    receptions: int
    guided_amount_cents: int
    guided_buyers: int
    inquiring_buyers: int
    conversion_rate: float | None
    avg_response_seconds: float | None
    pending: int
    pending_per_agent: float | None
    online: int
    suspended: int


def _ratio(numerator: float, denominator: float) -> float | None:
    """None over zero: "no one online" or "no consults" is not the same as a rate of 0."""
    return numerator / denominator if denominator else None


def _is_online(agent: AgentCounters) -> bool:
    """Suspending is something an online agent does (挂起), so a suspended agent is online."""
    return agent.online or agent.suspended


def _avg_response_seconds(agent: AgentCounters) -> float | None:
    return _ratio(agent.response_ms_sum / 1000, agent.response_count)


def _distinct(agents: Sequence[AgentCounters]) -> list[AgentCounters]:
    """Each agent once, first occurrence kept: an agent in two groups is one person online."""
    seen: dict[str, AgentCounters] = {}
    for agent in agents:
        seen.setdefault(agent.agent_id, agent)
    return list(seen.values())


def agent_figures(agent: AgentCounters) -> AgentFigures:
    """Receptions are the agent's own buyers: a buyer transferred on still counts for this agent."""
    return AgentFigures(
        agent_id=agent.agent_id,
        name=agent.name,
        online=_is_online(agent),
        suspended=agent.suspended,
        receptions=len(agent.buyers_today),
        pending=agent.pending,
        avg_response_seconds=_avg_response_seconds(agent),
    )


def group_figures(group: GroupCounters, agents: Sequence[AgentCounters]) -> GroupFigures:
    """The group's pending includes its queue; per-agent divides by everyone online, suspended too."""
    members = [agent for agent in _distinct(agents) if group.group_id in agent.group_ids]
    pending = group.queued_pending + sum(agent.pending for agent in members)
    online = sum(1 for agent in members if _is_online(agent))
    return GroupFigures(
        group_id=group.group_id,
        name=group.name,
        pending=pending,
        pending_per_agent=_ratio(pending, online),
        online=online,
        suspended=sum(1 for agent in members if agent.suspended),
        bot_consults=group.bot_consults,
        bot_transfers=group.bot_transfers,
        # Transfers without consults happen (offline pool, a click straight to a person): may exceed 1.
        bot_transfer_rate=_ratio(group.bot_transfers, group.bot_consults),
        bot_first_question_clicks=group.bot_first_question_clicks,
        agents=tuple(agent_figures(agent) for agent in members),
    )


def day_figures(day: DayCounters) -> dict[str, float | int | None]:
    """A day's totals; the shop's receptions count a buyer once, whether the bot, one or many agents replied."""
    return {
        "receptions": _receptions(day),
        "guided_amount_cents": day.guided_amount_cents,
        "guided_buyers": len(day.guided_buyers),
        "inquiring_buyers": len(day.inquiring_buyers),
        "conversion_rate": _conversion_rate(day),
    }


def _receptions(day: DayCounters) -> int:
    return len(day.agent_buyers | day.bot_buyers)


def _conversion_rate(day: DayCounters) -> float | None:
    """Guided paying buyers over inquiring buyers, as the platform defines it (not capped at 1)."""
    return _ratio(len(day.guided_buyers), len(day.inquiring_buyers))


def _shop_avg_response(agents: Sequence[AgentCounters]) -> float | None:
    """Mean of the agents' averages (not of all responses): a busy agent weighs as much as a quiet one."""
    averages = [avg for avg in (_avg_response_seconds(agent) for agent in agents) if avg is not None]
    return _ratio(sum(averages), len(averages))


def shop_figures(today: DayCounters, agents: Sequence[AgentCounters], groups: Sequence[GroupCounters]) -> ShopFigures:
    """Today's totals and the shop now; each agent counts once however many groups it is in."""
    people = _distinct(agents)
    pending = sum(agent.pending for agent in people) + sum(group.queued_pending for group in groups)
    online = sum(1 for agent in people if _is_online(agent))
    return ShopFigures(
        receptions=_receptions(today),
        guided_amount_cents=today.guided_amount_cents,
        guided_buyers=len(today.guided_buyers),
        inquiring_buyers=len(today.inquiring_buyers),
        conversion_rate=_conversion_rate(today),
        avg_response_seconds=_shop_avg_response(people),
        pending=pending,
        pending_per_agent=_ratio(pending, online),
        online=online,
        suspended=sum(1 for agent in people if agent.suspended),
    )


# --- alerts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    """One level's alert settings: the switch, figure → threshold, and who is told."""

    enabled: bool
    thresholds: Mapping[str, float]  # figure → threshold; a missing figure does not alert
    agent_thresholds: Mapping[str, float] = field(default_factory=dict)  # group level only
    recipients: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.recipients) > MAX_RECIPIENTS:
            raise ValueError(f"at most {MAX_RECIPIENTS} alert recipients")


@dataclass(frozen=True)
class Breach:
    """One red figure. group_id says which group's settings raised it ("" for the shop), so an agent
    in two groups shows each group's breach under that group."""

    scope: str  # "shop" | "group" | "agent"
    subject: str  # "" for shop, a group id, or an agent id
    figure: str
    value: float
    threshold: float
    group_id: str = ""


@dataclass(frozen=True)
class AlertMessage:
    level: str  # "shop" | "group"
    group_id: str
    recipients: tuple[str, ...]
    breaches: tuple[Breach, ...]


@dataclass(frozen=True)
class AlertRound:
    breaches: tuple[Breach, ...]  # everything red this round, shown in-app
    group_states: Mapping[str, str | None]  # group id → "busy" | "normal" | None
    messages: tuple[AlertMessage, ...]  # what to send, after suppression


def _breaches(
    scope: str,
    subject: str,
    group_id: str,
    figures: object,
    alertable: Sequence[str],
    thresholds: Mapping[str, float],
) -> list[Breach]:
    """Figures strictly over their threshold; an empty value (None) or a figure without one never alerts."""
    found = []
    for figure in alertable:
        threshold = thresholds.get(figure)
        value = getattr(figures, figure)
        if threshold is not None and value is not None and value > threshold:
            found.append(Breach(scope, subject, figure, float(value), float(threshold), group_id))
    return found


def _is_busy(group_breaches: Sequence[Breach], group: GroupFigures, agent_breaches: Sequence[Breach]) -> bool:
    """Busy: the group alerts, or MORE than 1/3 of its online agents do (exactly 1/3 is not busy)."""
    alerting = {breach.subject for breach in agent_breaches}
    online_alerting = sum(1 for agent in group.agents if agent.online and agent.agent_id in alerting)
    return bool(group_breaches) or online_alerting * 3 > group.online


def _message(level: str, group_id: str, settings: Level, breaches: Sequence[Breach]) -> list[AlertMessage]:
    """A message only when something is red and someone is to be told."""
    if not breaches or not settings.recipients:
        return []
    return [AlertMessage(level, group_id, settings.recipients, tuple(breaches))]


def evaluate(
    shop: ShopFigures, groups: Sequence[GroupFigures], shop_level: Level, group_levels: Mapping[str, Level]
) -> AlertRound:
    """One round (every 3 minutes): what is red, each group's state, and which messages to send.

    A group without settings has its alerts off. When the shop alerts, group messages are dropped
    for the round (the shop's recipients hear about it once); groups still show red in-app.
    """
    shop_breaches = _breaches("shop", "", "", shop, SHOP_ALERTABLE, shop_level.thresholds) if shop_level.enabled else []
    everything: list[Breach] = list(shop_breaches)
    states: dict[str, str | None] = {}
    group_messages: list[AlertMessage] = []
    for group in groups:
        settings = group_levels.get(group.group_id)
        if settings is None or not settings.enabled:
            states[group.group_id] = None
            continue
        own = _breaches("group", group.group_id, group.group_id, group, GROUP_ALERTABLE, settings.thresholds)
        agents = [
            breach
            for agent in group.agents
            for breach in _breaches(
                "agent", agent.agent_id, group.group_id, agent, AGENT_ALERTABLE, settings.agent_thresholds
            )
        ]
        everything += own + agents
        states[group.group_id] = BUSY if _is_busy(own, group, agents) else NORMAL
        group_messages += _message("group", group.group_id, settings, own + agents)
    messages = _message("shop", "", shop_level, shop_breaches) if shop_breaches else group_messages
    return AlertRound(tuple(everything), states, tuple(messages))


# --- text ---------------------------------------------------------------------------------------


def _number(value: float, places: int) -> str:
    """Short: 2.50 → 2.5, 60.0 → 60."""
    text = f"{value:.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _display(figure: str, value: float, unit: bool = True) -> str:
    """Rates as percentages (thresholds too: 80% is clearer than 0.8); seconds say so once, after the value."""
    if figure in _PERCENT_FIGURES:
        return _number(value * 100, 1) + "%"
    if figure in _SECONDS_FIGURES:
        return _number(value, 1) + (" 秒" if unit else "")
    return _number(value, 2)


def _item(breach: Breach, figure_names: Mapping[str, str], subject_names: Mapping[str, str]) -> str:
    name = figure_names.get(breach.figure) or _NAMES[breach.scope].get(breach.figure, breach.figure)
    who = f"客服 {subject_names.get(breach.subject, breach.subject)} " if breach.scope == "agent" else ""
    threshold = _display(breach.figure, breach.threshold, unit=False)
    return f"{who}{name} {_display(breach.figure, breach.value)}（阈值 {threshold}）"


def message_text(
    message: AlertMessage,
    figure_names: Mapping[str, str] | None = None,
    subject_names: Mapping[str, str] | None = None,
) -> str:
    """SMS-short zh-CN: which level, then each red figure with its threshold; the rest is on the dashboard.

    figure_names overrides a figure's display name; subject_names maps group and agent ids to names.
    """
    names = subject_names or {}
    where = "店铺" if message.level == "shop" else f"分组 {names.get(message.group_id, message.group_id)}"
    items = [_item(breach, figure_names or {}, names) for breach in message.breaches[:_SMS_MAX_ITEMS]]
    more = len(message.breaches) - _SMS_MAX_ITEMS
    tail = f"；等 {len(message.breaches)} 项" if more > 0 else ""
    return f"【ShopDesk 告警】{where}：" + "；".join(items) + tail


# --- the dashboard's JSON -----------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    as_of: str
    day: str
    shop: ShopFigures
    yesterday: Mapping[str, float | int | None] | None
    groups: tuple[GroupFigures, ...]
    alerts: AlertRound


def _rounded(figure: str, value: float | int | None) -> float | int | None:
    """Seconds to 0.1, rates and ratios to 0.0001; whole counts as integers."""
    if value is None:
        return None
    if figure in _SECONDS_FIGURES:
        return round(value, 1)
    if figure in _RATIO_FIGURES:
        return round(value, 4)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _breach_json(breach: Breach) -> dict[str, Any]:
    return {
        "scope": breach.scope,
        "subject": breach.subject,
        "figure": breach.figure,
        "value": _rounded(breach.figure, breach.value),
        "threshold": _rounded(breach.figure, breach.threshold),
    }


_DAY_KEYS = ("receptions", "guided_amount_cents", "guided_buyers", "inquiring_buyers", "conversion_rate")
_NOW_KEYS = ("avg_response_seconds", "pending", "pending_per_agent", "online", "suspended")


def _agent_json(agent: AgentFigures, breaches: Sequence[Breach]) -> dict[str, Any]:
    return {
        "agent_id": agent.agent_id,
        "name": agent.name,
        "online": agent.online,
        "suspended": agent.suspended,
        "receptions": agent.receptions,
        "pending": agent.pending,
        "avg_response_seconds": _rounded("avg_response_seconds", agent.avg_response_seconds),
        "alerts": [_breach_json(b) for b in breaches if b.scope == "agent" and b.subject == agent.agent_id],
    }


def _group_json(group: GroupFigures, alerts: AlertRound) -> dict[str, Any]:
    mine = [breach for breach in alerts.breaches if breach.scope != "shop" and breach.group_id == group.group_id]
    return {
        "group_id": group.group_id,
        "name": group.name,
        "pending": group.pending,
        "pending_per_agent": _rounded("pending_per_agent", group.pending_per_agent),
        "online": group.online,
        "suspended": group.suspended,
        "state": alerts.group_states.get(group.group_id),
        "alerts": [_breach_json(breach) for breach in mine if breach.scope == "group"],
        "bot": {
            "consults": group.bot_consults,
            "transfers": group.bot_transfers,
            "transfer_rate": _rounded("bot_transfer_rate", group.bot_transfer_rate),
            "first_question_clicks": group.bot_first_question_clicks,
        },
        "agents": [_agent_json(agent, mine) for agent in group.agents],
    }


def snapshot_json(snapshot: Snapshot) -> dict[str, Any]:
    """The dashboard's payload: today beside yesterday, the shop now, and each group with its agents."""
    shop = snapshot.shop
    shop_breaches = [breach for breach in snapshot.alerts.breaches if breach.scope == "shop"]
    yesterday = snapshot.yesterday
    return {
        "as_of": snapshot.as_of,
        "day": snapshot.day,
        "shop": {
            "today": {key: _rounded(key, getattr(shop, key)) for key in _DAY_KEYS},
            "yesterday": None if yesterday is None else {key: _rounded(key, yesterday.get(key)) for key in _DAY_KEYS},
            "now": {key: _rounded(key, getattr(shop, key)) for key in _NOW_KEYS},
            "alerts": [_breach_json(breach) for breach in shop_breaches],
            "alerting": bool(shop_breaches),
        },
        "groups": [_group_json(group, snapshot.alerts) for group in snapshot.groups],
    }
