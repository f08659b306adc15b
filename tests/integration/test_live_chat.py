"""Live chat through the WebSocket handler: routing, delivery to every tab, idempotent sends, order."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def store(world):
    world.group("presales", ["尺码", "优惠", "库存"], default=True)
    world.group("logistics", ["物流", "快递", "发货"], strategy="round_robin")
    return world


def test_first_words_route_the_chat_to_the_right_group_and_an_online_agent(store):
    # Given a logistics agent and a presales agent, both online
    courier = store.staff(groups=("logistics",))
    seller = store.staff(groups=("presales",))
    courier.connect()
    seller.connect()
    visitor = store.visitor()
    visitor.connect()
    session_id = visitor.open_session()
    # When the visitor asks about delivery
    ack = visitor.say(session_id, "我的快递什么时候发货？")
    # Then the message is stored as number 1 and the logistics agent gets the session
    assert ack["type"] == "ack" and ack["seq"] == 1 and ack["duplicate"] is False
    assigned = courier.frames("assigned")
    assert [a["session"]["session_id"] for a in assigned] == [session_id]
    assert assigned[0]["session"]["group_id"] == "logistics"
    assert seller.frames("assigned") == []
    # And the visitor sees who serves them
    sessions = visitor.frames("session")
    assert sessions[-1]["session"]["status"] == "active"
    assert sessions[-1]["session"]["agent_id"] == courier.id


def test_every_open_connection_of_both_sides_receives_each_message_in_order(store):
    # Given an agent with two tabs, serving a visitor
    agent = store.staff(groups=("presales",))
    agent.connect()
    agent.connect()
    visitor = store.visitor()
    visitor.connect()
    session_id = visitor.open_session()
    visitor.say(session_id, "这件有L码吗")
    # When both talk
    agent.say(session_id, "有的亲")
    visitor.say(session_id, "好的谢谢")
    # Then both agent tabs and the visitor hold the same three messages, in sequence order
    for person, connection in ((agent, 0), (agent, 1), (visitor, 0)):
        seqs = [f["message"]["seq"] for f in person.frames("message", connection)]
        assert seqs == [1, 2, 3], (person.role, connection)
    texts = [f["message"]["text"] for f in visitor.frames("message")]
    assert texts == ["这件有L码吗", "有的亲", "好的谢谢"]


def test_a_retried_send_is_stored_once_and_acknowledged_with_the_same_number(store):
    agent = store.staff(groups=("presales",))
    agent.connect()
    visitor = store.visitor()
    visitor.connect()
    session_id = visitor.open_session()
    # When the same client message id is sent twice
    first = visitor.say(session_id, "在吗", client_msg_id="c-1")
    retry = visitor.say(session_id, "在吗", client_msg_id="c-1")
    # Then the retry is acknowledged as a duplicate of the same number, and history holds one copy
    assert (first["seq"], first["duplicate"]) == (1, False)
    assert (retry["seq"], retry["duplicate"]) == (1, True)
    status, history = visitor.get("VisitorFunction", f"/sessions/{session_id}/messages")
    assert status == 200
    assert [m["seq"] for m in history["items"]] == [1]


def test_history_since_a_sequence_number_returns_only_what_was_missed(store):
    agent = store.staff(groups=("presales",))
    visitor = store.visitor()
    visitor.connect()
    agent.connect()
    session_id = visitor.open_session()
    for n in range(5):
        visitor.say(session_id, f"消息{n}")
    # When the visitor reconnects having seen up to number 3
    status, page = visitor.get("VisitorFunction", f"/sessions/{session_id}/messages", since=3)
    # Then numbers 4 and 5 come back
    assert status == 200
    assert [m["seq"] for m in page["items"]] == [4, 5]
    # And pagination walks the rest with a cursor
    status, first = visitor.get("VisitorFunction", f"/sessions/{session_id}/messages", limit=2)
    assert [m["seq"] for m in first["items"]] == [1, 2] and first["next_cursor"]
    status, second = visitor.get(
        "VisitorFunction", f"/sessions/{session_id}/messages", limit=2, cursor=first["next_cursor"]
    )
    assert [m["seq"] for m in second["items"]] == [3, 4]


def test_a_stale_connection_is_forgotten_and_the_message_stays_in_history(store):
    # Given an agent whose first tab has gone away without a $disconnect
    agent = store.staff(groups=("presales",))
    stale = agent.connect()
    agent.connect()
    visitor = store.visitor()
    visitor.connect()
    session_id = visitor.open_session()
    store.connections.open.discard(stale)
    # When messages are delivered
    visitor.say(session_id, "你好")
    visitor.say(session_id, "还在吗")
    # Then the live tab gets both, the stale one is dropped from the connection set, history keeps both
    assert [f["message"]["seq"] for f in agent.frames("message", 1)] == [1, 2]
    connections = store.container.connections._repo.of_principals([f"staff:{agent.id}"])
    assert stale not in connections[f"staff:{agent.id}"]
    status, history = agent.get("VisitorFunction", f"/sessions/{session_id}/messages")
    assert [m["text"] for m in history["items"]] == ["你好", "还在吗"]


def test_typing_and_read_receipts_reach_only_the_other_side(store):
    agent = store.staff(groups=("presales",))
    agent.connect()
    visitor = store.visitor()
    visitor.connect()
    session_id = visitor.open_session()
    visitor.say(session_id, "你好")
    visitor.send("typing", session_id=session_id)
    agent.send("read", session_id=session_id, seq=1)
    assert [f["role"] for f in agent.frames("typing")] == ["visitor"]
    assert visitor.frames("typing") == []
    assert [(f["role"], f["seq"]) for f in visitor.frames("read")] == [("agent", 1)]


def test_ping_answers_pong(store):
    visitor = store.visitor()
    visitor.connect()
    frames = visitor.send("ping", request_id="r-1")
    assert frames[-1]["type"] == "pong" and frames[-1]["request_id"] == "r-1"


def test_disconnect_forgets_the_connection(store):
    visitor = store.visitor()
    connection_id = visitor.connect()
    store.ws("$disconnect", connection_id, visitor.connections[0][1])
    found = store.container.connections._repo.of_principals([f"visitor:{visitor.id}"])
    assert found[f"visitor:{visitor.id}"] == set()
