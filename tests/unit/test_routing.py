"""Routing rules and assignment strategies, as pure functions."""

import pytest
from shopdesk.routing import AgentLoad, GroupRule, pick_group, rank_agents

pytestmark = pytest.mark.unit

GROUPS = [
    GroupRule("presales", ("尺码", "优惠", "库存", "价格"), is_default=True),
    GroupRule("aftersales", ("退货", "退款", "仅退款", "换货", "质量问题")),
    GroupRule("logistics", ("物流", "快递", "发货", "签收")),
]


def agent(agent_id: str, active: int = 0, capacity: int = 5, level: int = 1, **kw: object) -> AgentLoad:
    fields: dict = {"status": "online", "suspended": False, "last_assigned_at": ""}
    fields.update(kw)
    return AgentLoad(agent_id=agent_id, active_count=active, capacity=capacity, level=level, **fields)


def test_the_group_whose_keywords_the_words_hit_most_wins():
    # Given tokens that hit logistics twice and after-sales once
    tokens = ["快递", "还没", "发货", "退款"]
    # When the group is picked
    chosen = pick_group(tokens, "web", GROUPS)
    # Then logistics wins
    assert chosen == "logistics"


def test_words_that_hit_no_keyword_go_to_the_default_group():
    assert pick_group(["你好", "在吗"], "web", GROUPS) == "presales"


def test_a_channel_rule_overrides_the_words():
    # Given a rule that sends mini-program chats to after-sales
    rules = {"mini_program": "aftersales"}
    # When a mini-program visitor asks about delivery
    chosen = pick_group(["快递"], "mini_program", GROUPS, rules)
    # Then the rule wins, and a web visitor still follows the words
    assert chosen == "aftersales"
    assert pick_group(["快递"], "web", GROUPS, rules) == "logistics"


def test_a_rule_naming_an_unknown_group_is_ignored():
    assert pick_group(["快递"], "app", GROUPS, {"app": "gone"}) == "logistics"


def test_a_group_limited_to_channels_is_skipped_for_other_channels():
    groups = [*GROUPS[:2], GroupRule("logistics", ("快递",), channels=("app",))]
    assert pick_group(["快递"], "web", groups) == "presales"
    assert pick_group(["快递"], "app", groups) == "logistics"


def test_ties_go_to_the_group_listed_first():
    assert pick_group(["价格", "退款"], "web", GROUPS) == "presales"


def test_least_busy_prefers_the_most_free_capacity_relative_to_size():
    # Given one agent half full and one nearly empty
    agents = [
        agent("a", active=2, capacity=4),
        agent("b", active=1, capacity=5),
        agent("c", active=0, capacity=1),
    ]
    # When ranked
    ranked = [a.agent_id for a in rank_agents("least_busy", agents, ["a", "b", "c"])]
    # Then the lowest saturation comes first
    assert ranked == ["c", "b", "a"]


def test_least_busy_breaks_ties_by_who_waited_longest():
    agents = [
        agent("a", last_assigned_at="2026-01-01T10:00"),
        agent("b", last_assigned_at="2026-01-01T09:00"),
    ]
    assert [a.agent_id for a in rank_agents("least_busy", agents, ["a", "b"])] == ["b", "a"]


def test_only_online_unsuspended_agents_with_room_are_candidates():
    agents = [
        agent("full", active=5, capacity=5),
        agent("away", status="away"),
        agent("suspended", suspended=True),
        agent("ok"),
    ]
    assert [a.agent_id for a in rank_agents("least_busy", agents, [])] == ["ok"]


def test_round_robin_starts_after_the_last_assigned_agent_and_wraps():
    members = ["a", "b", "c"]
    agents = [agent(m) for m in members]
    assert [a.agent_id for a in rank_agents("round_robin", agents, members, last_agent_id="b")] == [
        "c",
        "a",
        "b",
    ]
    assert [a.agent_id for a in rank_agents("round_robin", agents, members, last_agent_id="")] == [
        "a",
        "b",
        "c",
    ]


def test_round_robin_skips_agents_without_room():
    members = ["a", "b", "c"]
    agents = [agent("a"), agent("b", active=5, capacity=5), agent("c")]
    assert [a.agent_id for a in rank_agents("round_robin", agents, members, last_agent_id="a")] == ["c", "a"]


def test_priority_puts_higher_levels_first_then_the_least_busy():
    agents = [
        agent("junior", level=1),
        agent("senior-busy", level=3, active=3),
        agent("senior", level=3, active=1),
    ]
    ranked = [a.agent_id for a in rank_agents("priority", agents, [])]
    assert ranked == ["senior", "senior-busy", "junior"]
