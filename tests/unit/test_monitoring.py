"""Real-time monitoring: each figure's definition on crafted counters, and the threshold-alert rules."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from shopdesk.monitoring import (
    AGENT_ALERTABLE,
    AGENT_FIGURES,
    GROUP_ALERTABLE,
    GROUP_FIGURES,
    SHOP_ALERTABLE,
    SHOP_FIGURES,
    AgentCounters,
    AlertMessage,
    Breach,
    DayCounters,
    GroupCounters,
    GroupFigures,
    Level,
    ShopFigures,
    Snapshot,
    agent_figures,
    day_figures,
    evaluate,
    group_figures,
    message_text,
    shop_figures,
    snapshot_json,
)

pytestmark = pytest.mark.unit


def agent(
    agent_id: str,
    groups: tuple[str, ...] = ("g1",),
    *,
    online: bool = True,
    suspended: bool = False,
    pending: int = 0,
    buyers: tuple[str, ...] = (),
    response_ms: tuple[int, ...] = (),
) -> AgentCounters:
    return AgentCounters(
        agent_id=agent_id,
        name=f"客服{agent_id}",
        group_ids=groups,
        online=online,
        suspended=suspended,
        pending=pending,
        buyers_today=frozenset(buyers),
        response_ms_sum=sum(response_ms),
        response_count=len(response_ms),
    )


def group(
    group_id: str = "g1", *, queued: int = 0, consults: int = 0, transfers: int = 0, clicks: int = 0
) -> GroupCounters:
    return GroupCounters(group_id, f"组{group_id}", queued, consults, transfers, clicks)


def day(
    agents: tuple[str, ...] = (),
    bot: tuple[str, ...] = (),
    inquiring: tuple[str, ...] = (),
    guided: tuple[str, ...] = (),
    amount: int = 0,
) -> DayCounters:
    return DayCounters(frozenset(agents), frozenset(bot), frozenset(inquiring), frozenset(guided), amount)


QUIET_SHOP = ShopFigures(
    receptions=0,
    guided_amount_cents=0,
    guided_buyers=0,
    inquiring_buyers=0,
    conversion_rate=None,
    avg_response_seconds=None,
    pending=0,
    pending_per_agent=None,
    online=0,
    suspended=0,
)


def quiet_shop(**overrides: float) -> ShopFigures:
    return replace(QUIET_SHOP, **overrides)


OFF = Level(enabled=False, thresholds={})


# --- figures -----------------------------------------------------------------------------------


def test_the_figure_lists_name_real_fields_and_alertable_figures_are_among_them():
    # Given the published figure lists, Then every name is a field and every alertable figure is a figure
    shop = shop_figures(day(), [], [])
    grp = group_figures(group(), [])
    one = agent_figures(agent("a"))
    assert all(hasattr(shop, name) for name in SHOP_FIGURES)
    assert all(hasattr(grp, name) for name in GROUP_FIGURES)
    assert all(hasattr(one, name) for name in AGENT_FIGURES)
    assert set(SHOP_ALERTABLE) <= set(SHOP_FIGURES)
    assert set(GROUP_ALERTABLE) <= set(GROUP_FIGURES)
    assert set(AGENT_ALERTABLE) <= set(AGENT_FIGURES)


def test_an_agents_average_response_is_its_mean_in_seconds():
    # Given an agent with replies taking 3 s, 5 s and 10 s in the window, When figured, Then it averages 6 s
    figures = agent_figures(agent("a", response_ms=(3000, 5000, 10000), pending=2, buyers=("b1", "b2")))
    assert figures.avg_response_seconds == 6.0
    assert figures.pending == 2
    assert figures.receptions == 2


def test_an_agent_without_replies_has_no_average_rather_than_zero():
    # Given an agent that replied to no one in the window, When figured, Then the average is empty
    assert agent_figures(agent("a")).avg_response_seconds is None
    assert agent_figures(agent("a")).receptions == 0


def test_a_transferred_buyer_counts_for_each_agent_but_once_for_the_shop():
    # Given buyer b1 served by A then transferred to B, and b2 answered only by the bot
    a = agent("a", buyers=("b1",))
    b = agent("b", buyers=("b1",))
    today = day(agents=("b1",), bot=("b1", "b2"))
    # When figured
    shop = shop_figures(today, [a, b], [group()])
    # Then both agents count b1, and the shop counts b1 and b2 once each
    assert agent_figures(a).receptions == 1
    assert agent_figures(b).receptions == 1
    assert shop.receptions == 2


def test_day_figures_give_sales_paying_buyers_and_conversion():
    # Given 4 inquiring buyers of which 1 paid, plus another guided buyer outside them, and 12 345 cents guided
    today = day(agents=("b1", "b2"), bot=("b3",), inquiring=("b1", "b2", "b3", "b4"), guided=("b1", "b5"), amount=12345)
    # When figured
    figures = day_figures(today)
    # Then conversion is guided ÷ inquiring, as the platform defines it
    assert figures == {
        "receptions": 3,
        "guided_amount_cents": 12345,
        "guided_buyers": 2,
        "inquiring_buyers": 4,
        "conversion_rate": 0.5,
    }


def test_a_day_without_inquiring_buyers_has_no_conversion_rate():
    # Given an empty day, When figured, Then counts are zero and the conversion rate is empty
    assert day_figures(day()) == {
        "receptions": 0,
        "guided_amount_cents": 0,
        "guided_buyers": 0,
        "inquiring_buyers": 0,
        "conversion_rate": None,
    }
    # And a guided buyer without inquiring buyers still gives no rate
    assert day_figures(day(guided=("b1",)))["conversion_rate"] is None


def test_shop_average_response_is_the_mean_of_agents_averages_over_agents_with_one():
    # Given A averaging 10 s over two replies, B 40 s over one, C with no replies
    agents = [agent("a", response_ms=(5000, 15000)), agent("b", response_ms=(40000,)), agent("c")]
    # When figured, Then (10 + 40) ÷ 2 — not the pooled 60 ÷ 3, and C is not in the divisor
    assert shop_figures(day(), agents, []).avg_response_seconds == 25.0


def test_shop_average_response_is_empty_when_no_agent_replied():
    # Given agents without replies, When figured, Then the average is empty
    assert shop_figures(day(), [agent("a"), agent("b")], []).avg_response_seconds is None


def test_shop_pending_per_agent_counts_queued_and_suspended_agents():
    # Given A (3 pending), B suspended (1 pending), C offline, and 2 queued conversations
    agents = [agent("a", pending=3), agent("b", suspended=True, pending=1), agent("c", online=False)]
    # When figured
    shop = shop_figures(day(), agents, [group(queued=2)])
    # Then pending is 6 over the 2 online agents, suspended one included
    assert (shop.pending, shop.online, shop.suspended) == (6, 2, 1)
    assert shop.pending_per_agent == 3.0


def test_shop_pending_per_agent_is_empty_with_no_one_online():
    # Given queued conversations and only offline agents, When figured, Then there is no per-agent figure
    shop = shop_figures(day(), [agent("a", online=False)], [group(queued=4)])
    assert shop.pending == 4
    assert shop.online == 0
    assert shop.pending_per_agent is None


def test_a_suspended_agent_is_online_even_if_the_online_flag_is_not_set():
    # Given an agent reported suspended but not online, When figured, Then it is online and suspended
    suspended = agent("a", online=False, suspended=True)
    shop = shop_figures(day(), [suspended], [])
    assert (shop.online, shop.suspended) == (1, 1)
    assert agent_figures(suspended).online is True


def test_an_agent_in_two_groups_counts_in_each_group_but_once_for_the_shop():
    # Given agent A (2 pending) in groups g1 and g2
    both = agent("a", groups=("g1", "g2"), pending=2)
    # When figured
    g1 = group_figures(group("g1"), [both])
    g2 = group_figures(group("g2"), [both])
    shop = shop_figures(day(), [both], [group("g1"), group("g2")])
    # Then each group has it online with its pending; the shop counts it once
    assert (g1.online, g1.pending, g2.online, g2.pending) == (1, 2, 1, 2)
    assert (shop.online, shop.pending) == (1, 2)


def test_group_pending_includes_its_queue_and_only_its_members():
    # Given g1 with A (2 pending), B suspended (1), C offline (4) and 3 queued; D (9) is in g2
    agents = [
        agent("a", pending=2),
        agent("b", suspended=True, pending=1),
        agent("c", online=False, pending=4),
        agent("d", groups=("g2",), pending=9),
    ]
    # When g1 is figured
    figures = group_figures(group("g1", queued=3), agents)
    # Then pending is 3 + 2 + 1 + 4, divided by its 2 online agents (suspended included)
    assert figures.pending == 10
    assert (figures.online, figures.suspended) == (2, 1)
    assert figures.pending_per_agent == 5.0
    assert [a.agent_id for a in figures.agents] == ["a", "b", "c"]


def test_a_group_with_no_one_online_has_no_pending_per_agent():
    # Given a group with a queue and no members, When figured, Then pending shows and per-agent is empty
    figures = group_figures(group("g1", queued=5), [])
    assert (figures.pending, figures.online, figures.suspended) == (5, 0, 0)
    assert figures.pending_per_agent is None
    assert figures.agents == ()


def test_bot_transfer_rate_may_exceed_one_and_is_shown_as_it_is():
    # Given 4 consults and 5 transfers (offline pool, direct clicks), When figured, Then the rate is 125%
    figures = group_figures(group(consults=4, transfers=5, clicks=7), [])
    assert (figures.bot_consults, figures.bot_transfers, figures.bot_first_question_clicks) == (4, 5, 7)
    assert figures.bot_transfer_rate == 1.25


def test_bot_transfer_rate_is_empty_without_consults():
    # Given transfers but no consults, When figured, Then the rate is empty, not infinite or zero
    assert group_figures(group(consults=0, transfers=2), []).bot_transfer_rate is None


# --- alerts ------------------------------------------------------------------------------------


def test_a_figure_over_its_threshold_is_red_and_at_it_is_not():
    # Given shop thresholds 60 s and 2.0 per agent, with 75 s and exactly 2.0
    shop = quiet_shop(avg_response_seconds=75.0, pending_per_agent=2.0)
    level = Level(enabled=True, thresholds={"avg_response_seconds": 60, "pending_per_agent": 2})
    # When evaluated
    result = evaluate(shop, [], level, {})
    # Then only the response time is red
    assert result.breaches == (Breach("shop", "", "avg_response_seconds", 75.0, 60.0),)


def test_a_figure_without_a_threshold_does_not_alert():
    # Given a very slow shop with only a pending threshold, When evaluated, Then nothing is red
    shop = quiet_shop(avg_response_seconds=900.0, pending_per_agent=1.0)
    result = evaluate(shop, [], Level(enabled=True, thresholds={"pending_per_agent": 5}, recipients=("boss",)), {})
    assert result.breaches == ()
    assert result.messages == ()


def test_an_empty_figure_does_not_alert():
    # Given thresholds on figures that are empty (no one online, no replies), When evaluated, Then nothing is red
    level = Level(enabled=True, thresholds={"avg_response_seconds": 0, "pending_per_agent": 0})
    assert evaluate(quiet_shop(), [], level, {}).breaches == ()


def test_a_switched_off_level_raises_nothing_and_shows_no_group_state():
    # Given shop and group levels with thresholds crossed but switched off
    shop = quiet_shop(pending_per_agent=9.0)
    grp = group_figures(group(queued=50), [agent("a", pending=9)])
    shop_off = Level(enabled=False, thresholds={"pending_per_agent": 1}, recipients=("boss",))
    group_off = Level(False, {"pending": 1}, {"pending": 1}, recipients=("lead",))
    # When evaluated
    result = evaluate(shop, [grp], shop_off, {"g1": group_off})
    # Then nothing is red, nothing is sent, and the group has no state
    assert result.breaches == ()
    assert result.messages == ()
    assert result.group_states == {"g1": None}


def test_a_group_without_settings_has_no_state():
    # Given a group missing from the group levels, When evaluated, Then its state is not shown
    result = evaluate(quiet_shop(), [group_figures(group(queued=99), [])], OFF, {})
    assert result.group_states == {"g1": None}
    assert result.breaches == ()


def test_a_group_with_alerts_on_and_nothing_red_is_normal():
    # Given a group with alerts on and figures under threshold, When evaluated, Then it is normal
    grp = group_figures(group(queued=1), [agent("a", pending=1)])
    result = evaluate(quiet_shop(), [grp], OFF, {"g1": Level(True, {"pending": 5}, {"pending": 5})})
    assert result.group_states == {"g1": "normal"}
    assert result.breaches == ()


def test_a_group_that_alerts_itself_is_busy():
    # Given a group with no agents whose transfer rate of 125% is over 80%, When evaluated, Then it is busy
    grp = group_figures(group(consults=4, transfers=5), [])
    result = evaluate(quiet_shop(), [grp], OFF, {"g1": Level(True, {"bot_transfer_rate": 0.8})})
    assert result.group_states == {"g1": "busy"}
    assert result.breaches == (Breach("group", "g1", "bot_transfer_rate", 1.25, 0.8, "g1"),)


def _three_agents(alerting: int) -> GroupFigures:
    """g1 with three online agents of which `alerting` have 5 pending, the rest none."""
    members = [agent(f"a{i}", pending=5 if i < alerting else 0) for i in range(3)]
    return group_figures(group(), members)


AGENT_PENDING_3 = {"g1": Level(True, {}, {"pending": 3})}


def test_exactly_one_third_of_online_agents_alerting_is_not_busy():
    # Given 1 of 3 online agents over its pending threshold, When evaluated, Then the group is normal
    result = evaluate(quiet_shop(), [_three_agents(1)], OFF, AGENT_PENDING_3)
    assert result.group_states == {"g1": "normal"}
    assert result.breaches == (Breach("agent", "a0", "pending", 5.0, 3.0, "g1"),)


def test_more_than_one_third_of_online_agents_alerting_is_busy():
    # Given 2 of 3 online agents over the threshold, When evaluated, Then the group is busy
    result = evaluate(quiet_shop(), [_three_agents(2)], OFF, AGENT_PENDING_3)
    assert result.group_states == {"g1": "busy"}
    # And with 2 online agents, one alerting is over 1/3
    pair = group_figures(group(), [agent("a", pending=5), agent("b")])
    assert evaluate(quiet_shop(), [pair], OFF, AGENT_PENDING_3).group_states == {"g1": "busy"}


def test_offline_agents_alerting_do_not_make_a_group_busy():
    # Given 3 online agents (1 alerting) and an offline agent still holding 5 pending
    members = [agent("a0", pending=5), agent("a1"), agent("a2"), agent("off", online=False, pending=5)]
    grp = group_figures(group(), members)
    # When evaluated
    result = evaluate(quiet_shop(), [grp], OFF, AGENT_PENDING_3)
    # Then the offline agent is red but only 1 of 3 online agents alerts: normal
    assert {b.subject for b in result.breaches} == {"a0", "off"}
    assert result.group_states == {"g1": "normal"}


def test_agent_thresholds_apply_to_response_time_and_use_each_groups_settings():
    # Given A in g1 and g2 averaging 50 s; g1 allows 30 s, g2 allows 60 s
    slow = agent("a", groups=("g1", "g2"), response_ms=(50000,))
    groups = [group_figures(group("g1"), [slow]), group_figures(group("g2"), [slow])]
    levels = {"g1": Level(True, {}, {"avg_response_seconds": 30}), "g2": Level(True, {}, {"avg_response_seconds": 60})}
    # When evaluated
    result = evaluate(quiet_shop(), groups, OFF, levels)
    # Then A is red under g1 only, and one alerting agent out of one makes g1 busy
    assert result.breaches == (Breach("agent", "a", "avg_response_seconds", 50.0, 30.0, "g1"),)
    assert result.group_states == {"g1": "busy", "g2": "normal"}


def test_group_messages_carry_group_and_agent_breaches_when_the_shop_is_quiet():
    # Given g1 over its pending threshold with agent A red, g2 red too, g3 quiet; the shop under its threshold
    g1 = group_figures(group("g1", queued=10), [agent("a", pending=4)])
    g2 = group_figures(group("g2", queued=20), [])
    g3 = group_figures(group("g3"), [])
    levels = {
        "g1": Level(True, {"pending": 10}, {"pending": 3}, recipients=("lead1",)),
        "g2": Level(True, {"pending": 10}, recipients=("lead2", "lead2b")),
        "g3": Level(True, {"pending": 10}, recipients=("lead3",)),
    }
    shop_level = Level(True, {"pending_per_agent": 100}, recipients=("boss",))
    # When evaluated
    result = evaluate(quiet_shop(pending_per_agent=34.0), [g1, g2, g3], shop_level, levels)
    # Then each red group sends one message with its own and its agents' breaches; g3 sends nothing
    assert result.messages == (
        AlertMessage(
            "group",
            "g1",
            ("lead1",),
            (Breach("group", "g1", "pending", 14.0, 10.0, "g1"), Breach("agent", "a", "pending", 4.0, 3.0, "g1")),
        ),
        AlertMessage("group", "g2", ("lead2", "lead2b"), (Breach("group", "g2", "pending", 20.0, 10.0, "g2"),)),
    )


def test_when_shop_and_group_alert_together_only_the_shop_message_is_sent():
    # Given the shop over its pending-per-agent threshold and g1 over its own
    shop = quiet_shop(pending_per_agent=5.0)
    g1 = group_figures(group(queued=20), [])
    shop_level = Level(True, {"pending_per_agent": 2}, recipients=("boss",))
    levels = {"g1": Level(True, {"pending": 10}, recipients=("lead",))}
    # When evaluated
    result = evaluate(shop, [g1], shop_level, levels)
    # Then one shop message with the shop's breach is sent, while the group still shows red and busy in-app
    shop_breach = Breach("shop", "", "pending_per_agent", 5.0, 2.0)
    assert result.messages == (AlertMessage("shop", "", ("boss",), (shop_breach,)),)
    assert result.breaches == (shop_breach, Breach("group", "g1", "pending", 20.0, 10.0, "g1"))
    assert result.group_states == {"g1": "busy"}


def test_a_shop_alert_alone_is_sent_and_a_shop_switched_off_does_not_suppress_groups():
    # Given a red shop and quiet groups, When evaluated, Then the shop message goes out
    shop_level = Level(True, {"avg_response_seconds": 30}, recipients=("boss",))
    alone = evaluate(quiet_shop(avg_response_seconds=31.0), [group_figures(group(), [])], shop_level, {})
    assert [m.level for m in alone.messages] == ["shop"]
    # Given the same shop switched off and a red group, When evaluated, Then the group's message goes out
    g1 = group_figures(group(queued=20), [])
    levels = {"g1": Level(True, {"pending": 10}, recipients=("lead",))}
    switched_off = Level(False, {"avg_response_seconds": 30}, recipients=("boss",))
    result = evaluate(quiet_shop(avg_response_seconds=31.0), [g1], switched_off, levels)
    assert [(m.level, m.group_id) for m in result.messages] == [("group", "g1")]


def test_a_red_level_without_recipients_sends_nothing_but_still_shows_red():
    # Given a red group with no recipients, When evaluated, Then it is red and busy but no message is sent
    g1 = group_figures(group(queued=20), [])
    result = evaluate(quiet_shop(), [g1], OFF, {"g1": Level(True, {"pending": 10})})
    assert len(result.breaches) == 1
    assert result.group_states == {"g1": "busy"}
    assert result.messages == ()


def test_a_level_has_at_most_ten_recipients():
    # Given ten recipients, Then the level is accepted; Given eleven, Then it is refused
    assert len(Level(True, {}, recipients=tuple(f"r{i}" for i in range(10))).recipients) == 10
    with pytest.raises(ValueError, match="10"):
        Level(True, {}, recipients=tuple(f"r{i}" for i in range(11)))


# --- message text ------------------------------------------------------------------------------


def test_shop_message_text_names_figures_values_and_thresholds():
    # Given a shop message with two breaches, When rendered, Then it reads as the SMS copy
    message = AlertMessage(
        "shop",
        "",
        ("boss",),
        (Breach("shop", "", "pending_per_agent", 2.5, 2.0), Breach("shop", "", "avg_response_seconds", 75.0, 60.0)),
    )
    assert message_text(message) == "【ShopDesk 告警】店铺：人均待回复 2.5（阈值 2）；平均响应时间 75 秒（阈值 60）"


def test_group_message_text_shows_rates_as_percent_agents_by_name_and_overridden_names():
    # Given a group message with a transfer rate and an agent breach
    message = AlertMessage(
        "group",
        "g1",
        ("lead",),
        (
            Breach("group", "g1", "bot_transfer_rate", 1.25, 0.8, "g1"),
            Breach("agent", "a", "pending", 4.0, 3.0, "g1"),
        ),
    )
    # When rendered with names
    text = message_text(message, {"pending": "未回复"}, subject_names={"g1": "售前", "a": "小王"})
    # Then the level, the percentage and the agent are readable
    assert text == "【ShopDesk 告警】分组 售前：转人工率 125%（阈值 80%）；客服 小王 未回复 4（阈值 3）"


def test_a_long_message_is_cut_short_for_sms():
    # Given a group message with six agent breaches, When rendered, Then four are listed and the total is said
    breaches = tuple(Breach("agent", f"a{i}", "pending", 9.0, 3.0, "g1") for i in range(6))
    text = message_text(AlertMessage("group", "g1", ("lead",), breaches))
    assert text.count("待回复") == 4
    assert text.endswith("；等 6 项")


# --- the dashboard's JSON ----------------------------------------------------------------------


def test_snapshot_json_has_the_dashboard_shape_with_rounded_figures():
    # Given a shop with one group of two agents, one red under its group, and yesterday's figures
    a = agent("a", pending=4, buyers=("b1",), response_ms=(1000, 1234))
    b = agent("b", suspended=True, buyers=("b1", "b2"))
    today = day(agents=("b1", "b2"), inquiring=("b1", "b2", "b3"), guided=("b1",), amount=990)
    shop = shop_figures(today, [a, b], [group(queued=1, consults=3, transfers=4)])
    g1 = group_figures(group(queued=1, consults=3, transfers=4), [a, b])
    alerts = evaluate(shop, [g1], OFF, {"g1": Level(True, {}, {"pending": 3})})
    snapshot = Snapshot("2026-03-02T06:03:00.000Z", "2026-03-02", shop, day_figures(day(agents=("x",))), (g1,), alerts)
    # When rendered
    payload = snapshot_json(snapshot)
    # Then it has exactly the agreed shape, rates to 0.0001 and seconds to 0.1, and is JSON-serialisable
    json.dumps(payload)
    assert payload == {
        "as_of": "2026-03-02T06:03:00.000Z",
        "day": "2026-03-02",
        "shop": {
            "today": {
                "receptions": 2,
                "guided_amount_cents": 990,
                "guided_buyers": 1,
                "inquiring_buyers": 3,
                "conversion_rate": 0.3333,
            },
            "yesterday": {
                "receptions": 1,
                "guided_amount_cents": 0,
                "guided_buyers": 0,
                "inquiring_buyers": 0,
                "conversion_rate": None,
            },
            "now": {"avg_response_seconds": 1.1, "pending": 5, "pending_per_agent": 2.5, "online": 2, "suspended": 1},
            "alerts": [],
            "alerting": False,
        },
        "groups": [
            {
                "group_id": "g1",
                "name": "组g1",
                "pending": 5,
                "pending_per_agent": 2.5,
                "online": 2,
                "suspended": 1,
                "state": "busy",
                "alerts": [],
                "bot": {"consults": 3, "transfers": 4, "transfer_rate": 1.3333, "first_question_clicks": 0},
                "agents": [
                    {
                        "agent_id": "a",
                        "name": "客服a",
                        "online": True,
                        "suspended": False,
                        "receptions": 1,
                        "pending": 4,
                        "avg_response_seconds": 1.1,
                        "alerts": [{"scope": "agent", "subject": "a", "figure": "pending", "value": 4, "threshold": 3}],
                    },
                    {
                        "agent_id": "b",
                        "name": "客服b",
                        "online": True,
                        "suspended": True,
                        "receptions": 2,
                        "pending": 0,
                        "avg_response_seconds": None,
                        "alerts": [],
                    },
                ],
            }
        ],
    }


def test_snapshot_json_puts_each_breach_under_its_own_group_and_the_shop():
    # Given A in g1 and g2 red under both with different thresholds, a red shop, and no yesterday
    a = agent("a", groups=("g1", "g2"), pending=6)
    groups = [group_figures(group("g1"), [a]), group_figures(group("g2"), [a])]
    shop = shop_figures(day(), [a], [group("g1"), group("g2")])
    levels = {"g1": Level(True, {}, {"pending": 3}), "g2": Level(True, {"pending": 5}, {"pending": 4})}
    alerts = evaluate(shop, groups, Level(True, {"pending_per_agent": 2}), levels)
    # When rendered
    payload = snapshot_json(Snapshot("t", "d", shop, None, tuple(groups), alerts))
    # Then each group lists only its own breaches, and the shop is alerting with its own
    g1, g2 = payload["groups"]
    assert [b["threshold"] for b in g1["agents"][0]["alerts"]] == [3]
    assert [b["threshold"] for b in g2["agents"][0]["alerts"]] == [4]
    assert g1["alerts"] == []
    assert g2["alerts"] == [{"scope": "group", "subject": "g2", "figure": "pending", "value": 6, "threshold": 5}]
    assert payload["shop"]["yesterday"] is None
    assert payload["shop"]["alerting"] is True
    assert payload["shop"]["alerts"] == [
        {"scope": "shop", "subject": "", "figure": "pending_per_agent", "value": 6.0, "threshold": 2.0}
    ]
