"""The agent's side: presence and the queue, accepting, transfer, end and rating, quick replies."""

from __future__ import annotations

import threading

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def store(world):
    world.group("presales", ["尺码", "优惠"], default=True)
    world.group("aftersales", ["退货", "退款"], strategy="priority")
    return world


def start_chat(world, text="你好"):
    visitor = world.visitor()
    visitor.connect()
    session_id = visitor.open_session()
    visitor.say(session_id, text)
    return visitor, session_id


def test_with_nobody_free_the_session_queues_and_the_visitor_sees_their_position(store):
    # Given an offline agent of the group, no one online, and two visitors a second apart
    agent = store.staff(groups=("presales",), online=False)
    agent.connect()
    first, first_id = start_chat(store)
    store.clock.advance(seconds=1)
    second, second_id = start_chat(store)
    # Then both queue, in order
    assert first.frames("session")[-1]["session"]["status"] == "queued"
    assert first.frames("session")[-1]["session"]["queue_position"] == 1
    assert second.frames("session")[-1]["session"]["queue_position"] == 2
    # And the group's agents hear that their queue changed
    assert [f["group_id"] for f in agent.frames("queue_changed")] == ["presales", "presales"]
    # When the agent comes online
    status, _ = agent.call("AgentFunction", "PUT", "/agent/status", {"status": "online"})
    # Then the queue drains into the agent, oldest first, and the visitors hear about it
    assert status == 200
    assert [f["session"]["session_id"] for f in agent.frames("assigned")] == [first_id, second_id]
    assert first.frames("session")[-1]["session"]["agent_id"] == agent.id


def test_capacity_frees_up_when_a_chat_ends_and_the_next_in_line_is_assigned(store):
    agent = store.staff(groups=("presales",), capacity=1)
    agent.connect()
    first, first_id = start_chat(store)
    store.clock.advance(seconds=1)
    second, second_id = start_chat(store)
    assert second.frames("session")[-1]["session"]["status"] == "queued"
    status, page = agent.get("AgentFunction", "/agent/queue")
    assert [item["session_id"] for item in page["items"]] == [second_id]
    assert page["items"][0]["queue_position"] == 1 and page["items"][0]["preview"] == "你好"
    # When the agent ends the first chat
    status, ended = agent.call("AgentFunction", "POST", f"/sessions/{first_id}/end")
    # Then the first is ended and the second becomes theirs
    assert status == 200 and ended["status"] == "ended"
    assert second.frames("session")[-1]["session"]["status"] == "active"
    status, mine = agent.get("AgentFunction", "/agent/sessions")
    assert [s["session_id"] for s in mine["items"]] == [second_id]
    status, done = agent.get("AgentFunction", "/agent/sessions", status="ended")
    assert [s["session_id"] for s in done["items"]] == [first_id]


def test_two_agents_accepting_the_same_queued_session_have_one_winner(store):
    visitor, session_id = start_chat(store)
    agents = [store.staff(groups=("presales",), online=False) for _ in range(2)]
    # Both come online without draining the queue (status set directly), then race to accept
    for agent in agents:
        agent_model = store.container.staff.require(agent.id)
        agent_model.update(actions=[type(agent_model).status.set("online")])
    results: list[int] = []
    barrier = threading.Barrier(2)

    def accept(agent):
        barrier.wait()
        status, _ = agent.call("AgentFunction", "POST", f"/sessions/{session_id}/accept")
        results.append(status)

    threads = [threading.Thread(target=accept, args=(a,)) for a in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 409]
    loads = sorted(int(store.container.staff.require(a.id).active_count) for a in agents)
    assert loads == [0, 1]


def test_concurrent_assignments_never_push_an_agent_over_capacity(store):
    agent = store.staff(groups=("presales",), capacity=3)
    visitors = []
    for _ in range(8):
        visitor = store.visitor()
        visitor.connect()
        visitors.append((visitor, visitor.open_session()))
    barrier = threading.Barrier(len(visitors))

    def first_words(visitor, session_id):
        barrier.wait()
        visitor.say(session_id, "请问有优惠吗")

    threads = [threading.Thread(target=first_words, args=pair) for pair in visitors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert int(store.container.staff.require(agent.id).active_count) == 3
    statuses = sorted(store.container.chat.session(s).status for _, s in visitors)
    assert statuses == ["active"] * 3 + ["queued"] * 5


def test_transfer_to_an_agent_needs_a_reason_and_takes_the_history_along(store):
    helper = store.staff(groups=("aftersales",), level=2)
    helper.connect()
    agent = store.staff(groups=("presales",))
    agent.connect()
    visitor, session_id = start_chat(store, "这件有优惠吗")
    status, body = agent.call("AgentFunction", "POST", f"/sessions/{session_id}/transfer", {"to_agent_id": helper.id})
    assert (status, body["code"]) == (422, "validation_error")
    status, body = agent.call(
        "AgentFunction",
        "POST",
        f"/sessions/{session_id}/transfer",
        {"to_agent_id": helper.id, "reason": "退货问题"},
    )
    assert status == 200 and body["agent_id"] == helper.id
    assert [f["session"]["session_id"] for f in helper.frames("assigned")] == [session_id]
    status, page = helper.get("VisitorFunction", f"/sessions/{session_id}/messages")
    texts = [m["text"] for m in page["items"]]
    assert texts[0] == "这件有优惠吗" and "退货问题" in texts[-1]
    assert int(store.container.staff.require(agent.id).active_count) == 0
    assert helper.say(session_id, "您好，我来处理")["type"] == "ack"
    assert agent.say(session_id, "我还在")["code"] == "not_participant"


def test_transfer_to_a_group_assigns_within_it_or_queues_there(store):
    agent = store.staff(groups=("presales",))
    agent.connect()
    visitor, session_id = start_chat(store)
    status, body = agent.call(
        "AgentFunction",
        "POST",
        f"/sessions/{session_id}/transfer",
        {"to_group_id": "aftersales", "reason": "要退款"},
    )
    assert status == 200 and body["status"] == "queued" and body["group_id"] == "aftersales"
    specialist = store.staff(groups=("aftersales",), online=False)
    specialist.connect()
    specialist.call("AgentFunction", "PUT", "/agent/status", {"status": "online"})
    assert store.container.chat.session(session_id).agent_id == specialist.id


def test_transfer_to_a_full_agent_is_refused_and_nothing_changes(store):
    full = store.staff(groups=("aftersales",), capacity=1)
    start_chat(store, "我要退货")
    agent = store.staff(groups=("presales",))
    visitor, session_id = start_chat(store, "尺码问题")
    status, body = agent.call(
        "AgentFunction",
        "POST",
        f"/sessions/{session_id}/transfer",
        {"to_agent_id": full.id, "reason": "转售后"},
    )
    assert (status, body["code"]) == (409, "over_capacity")
    assert store.container.chat.session(session_id).agent_id == agent.id


def test_ending_invites_a_rating_that_is_kept_once(store):
    agent = store.staff(groups=("presales",))
    agent.connect()
    visitor, session_id = start_chat(store)
    status, body = visitor.call(
        "VisitorFunction", "POST", f"/sessions/{session_id}/rating", {"stars": 5, "solved": True}
    )
    assert (status, body["code"]) == (409, "session_closed")
    agent.call("AgentFunction", "POST", f"/sessions/{session_id}/end")
    assert visitor.frames("session")[-1]["session"]["status"] == "ended"
    status, body = visitor.call(
        "VisitorFunction",
        "POST",
        f"/sessions/{session_id}/rating",
        {"stars": 2, "comment": "没解决", "solved": False},
    )
    assert status == 200 and body["rating"] == {"stars": 2, "comment": "没解决", "solved": False}
    status, body = visitor.call(
        "VisitorFunction", "POST", f"/sessions/{session_id}/rating", {"stars": 5, "solved": True}
    )
    assert (status, body["code"]) == (409, "already_rated")
    status, body = visitor.call(
        "VisitorFunction", "POST", f"/sessions/{session_id}/rating", {"stars": 6, "solved": True}
    )
    assert status == 422


def test_quick_replies_rank_by_the_customers_words(store):
    admin = store.staff(role="admin")
    agent = store.staff(groups=("presales",))
    admin.call(
        "AdminFunction",
        "POST",
        "/admin/quick-replies",
        {"title": "欢迎", "text": "您好", "keywords": ["你好"]},
    )
    admin.call(
        "AdminFunction",
        "POST",
        "/admin/quick-replies",
        {"title": "退货", "text": "七天无理由", "keywords": ["退货"]},
    )
    status, mine = agent.call(
        "AgentFunction",
        "POST",
        "/agent/quick-replies",
        {"title": "尺码", "text": "请告诉我身高", "keywords": ["尺码"]},
    )
    assert status == 201 and mine["scope"] == "agent"
    status, page = agent.get("AgentFunction", "/agent/quick-replies", q="我想退货怎么办")
    assert page["items"][0]["title"] == "退货"
    status, page = agent.get("AgentFunction", "/agent/quick-replies", q="这个尺码偏大吗")
    assert page["items"][0]["title"] == "尺码"
    other = store.staff(groups=("presales",))
    status, page = other.get("AgentFunction", "/agent/quick-replies")
    assert "尺码" not in [r["title"] for r in page["items"]]


def test_offline_messages_wait_in_the_queue_until_an_agent_takes_them(store):
    visitor = store.visitor()
    status, body = visitor.get("VisitorFunction", "/visitor/availability")
    assert status == 200 and body["agents_online"] is False
    status, left = visitor.call(
        "VisitorFunction", "POST", "/offline-messages", {"text": "想问下退货地址", "contact": "138****0000"}
    )
    assert status == 201 and left["status"] == "offline" and left["group_id"] == "aftersales"
    agent = store.staff(groups=("aftersales",))
    status, queue = agent.get("AgentFunction", "/agent/queue")
    assert [(i["status"], i["contact"]) for i in queue["items"]] == [("offline", "138****0000")]
    status, taken = agent.call("AgentFunction", "POST", f"/sessions/{left['session_id']}/accept")
    assert status == 200 and taken["status"] == "active"
    status, body = visitor.get("VisitorFunction", "/visitor/availability")
    assert body["agents_online"] is True


def test_visitor_panel_lists_a_visitors_past_sessions(store):
    agent = store.staff(groups=("presales",))
    visitor, first = start_chat(store)
    agent.call("AgentFunction", "POST", f"/sessions/{first}/end")
    store.clock.advance(minutes=5)
    second = visitor.open_session()
    status, page = agent.get("AgentFunction", f"/visitors/{visitor.id}/sessions")
    assert status == 200 and [s["session_id"] for s in page["items"]] == [second, first]
    status, page = visitor.get("VisitorFunction", "/visitor/sessions")
    assert [s["session_id"] for s in page["items"]] == [second, first]


def test_store_hours_and_channel_rules_come_from_the_store_settings(store):
    from shopdesk import keys
    from shopdesk.models import BusinessHours, StoreConfigModel

    # Given a store open on no day of the week, whose mini-program chats go to after-sales
    StoreConfigModel(
        keys.STORE_PK,
        keys.CONFIG_SK,
        business_hours=BusinessHours(timezone="Asia/Shanghai", weekly={"7": ["00:00", "24:00"]}),
        channel_rules={"mini_program": "aftersales"},
    ).save()
    visitor = store.visitor()
    # Then the widget hears the store is closed
    status, body = visitor.get("VisitorFunction", "/visitor/availability")
    assert (status, body["business_hours"]) == (200, False)
    # And a mini-program chat about sizes goes to after-sales by the channel rule
    visitor.connect()
    session_id = visitor.open_session(channel="mini_program")
    visitor.say(session_id, "尺码怎么选")
    assert store.container.chat.session(session_id).group_id == "aftersales"
