"""Tickets through their REST routes and WebSocket frames, against moto: creation from every source,
lifecycle, races, scopes, lists with filters, archiving and the escalation notice."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.conftest import Person, World

pytestmark = pytest.mark.integration

T = "TicketFunction"


def create(person: Person, **fields: Any) -> tuple[int, Any]:
    body = {"type": "after_sales", "priority": "normal", "description": "退款一直没到账", **fields}
    return person.call(T, "POST", "/tickets", body)


def created(person: Person, **fields: Any) -> dict[str, Any]:
    status, ticket = create(person, **fields)
    assert status == 201, ticket
    return dict(ticket)


def ids(person: Person, **query: Any) -> list[str]:
    status, body = person.get(T, "/tickets", **query)
    assert status == 200, body
    return [t["ticket_id"] for t in body["items"]]


def timeline(person: Person, ticket_id: str) -> list[dict[str, Any]]:
    status, body = person.get(T, f"/tickets/{ticket_id}/timeline")
    assert status == 200, body
    return list(body["items"])


@pytest.fixture
def desk(world: World) -> dict[str, Any]:
    """Two groups with an agent each, a leader, and a connected customer with an ended chat."""
    world.group("aftersales", ["退款"], default=True)
    world.group("logistics", ["快递"])
    agent = world.staff(groups=("aftersales",))
    other = world.staff(groups=("logistics",))
    leader = world.staff(role="leader", groups=("aftersales",))
    for person in (agent, other, leader):
        person.connect()
    customer = world.visitor()
    customer.connect()
    session_id = customer.open_session()
    assert customer.say(session_id, "我要退款，钱还没到")["type"] == "ack"
    return {"world": world, "agent": agent, "other": other, "leader": leader, "customer": customer, "chat": session_id}


def test_an_agent_creates_a_ticket_from_a_chat_with_the_history_linked(desk):
    agent, customer, chat = desk["agent"], desk["customer"], desk["chat"]
    # Given the customer's earlier chat as well
    earlier = customer.open_session()
    # When the agent creates a ticket from the current chat
    ticket = created(agent, session_id=chat, order_number="SO-1001")
    # Then the customer, the group and the chats are filled in, and the clock runs
    assert ticket["customer_id"] == customer.id and ticket["group_id"] == "aftersales"
    assert ticket["session_ids"][0] == chat and earlier in ticket["session_ids"]
    assert (ticket["status"], ticket["source"], ticket["version"]) == ("new", "agent", 1)
    assert ticket["sla"]["state"] == "on_track" and ticket["sla"]["first_response_due_at"]
    # And the linked chat's transcript is readable from the ticket
    status, transcript = agent.get(T, f"/tickets/{ticket['ticket_id']}/chats/{chat}/messages")
    assert status == 200 and transcript["items"][0]["text"] == "我要退款，钱还没到"
    assert [e["kind"] for e in timeline(agent, ticket["ticket_id"])] == ["created"]


def test_the_lifecycle_pauses_resumes_and_refuses_invalid_moves_without_writing(desk):
    agent = desk["agent"]
    ticket = created(agent, session_id=desk["chat"])
    tid = ticket["ticket_id"]
    # When the agent pulls it from the pool, it is theirs and in processing
    status, pulled = agent.call(T, "POST", f"/tickets/{tid}/assign", {"version": 1})
    assert status == 200 and (pulled["assignee_id"], pulled["status"]) == (agent.id, "processing")
    # When it waits on the customer, the clock pauses
    status, pending = agent.call(T, "POST", f"/tickets/{tid}/status", {"version": 2, "status": "pending"})
    assert status == 200 and pending["sla"]["state"] == "paused" and pending["sla"]["next_due_at"] is None
    # When the agent asks for an impossible move, it is refused and nothing is written
    status, error = agent.call(T, "POST", f"/tickets/{tid}/status", {"version": 3, "status": "new"})
    assert status == 409 and error["code"] == "invalid_transition"
    assert agent.get(T, f"/tickets/{tid}")[1]["version"] == 3
    # When the customer answers, the ticket is back in processing and the clock runs again
    status, _ = desk["customer"].call(T, "POST", f"/tickets/{tid}/notes", {"text": "订单号是 SO-1001"})
    assert status == 201
    resumed = agent.get(T, f"/tickets/{tid}")[1]
    assert resumed["status"] == "processing" and resumed["sla"]["state"] == "on_track"
    # When it is resolved, closed and reopened, each step is on the timeline
    for wanted in ("resolved", "closed", "processing"):
        status, moved = agent.call(
            T, "POST", f"/tickets/{tid}/status", {"version": resumed["version"], "status": wanted}
        )
        assert status == 200, moved
        resumed = moved
    kinds = [(e["kind"], e["data"].get("to")) for e in timeline(agent, tid)]
    assert kinds[-3:] == [("status", "resolved"), ("status", "closed"), ("status", "processing")]


def test_concurrent_edits_have_one_winner_and_lose_nothing(desk):
    agent, leader = desk["agent"], desk["leader"]
    tid = created(agent)["ticket_id"]
    # Given two people holding version 1
    # When both change it
    first = agent.call(T, "PATCH", f"/tickets/{tid}", {"version": 1, "priority": "high"})
    second = leader.call(T, "PATCH", f"/tickets/{tid}", {"version": 1, "type": "complaint"})
    # Then the first wins and the second gets 409 with the current version
    assert first[0] == 200 and first[1]["priority"] == "high"
    assert second[0] == 409 and second[1]["code"] == "version_conflict"
    assert second[1]["details"]["current_version"] == 2
    current = agent.get(T, f"/tickets/{tid}")[1]
    assert (current["priority"], current["type"], current["version"]) == ("high", "after_sales", 2)
    assert [e["kind"] for e in timeline(agent, tid)] == ["created", "edited"]


def test_two_agents_pulling_the_same_ticket_one_gets_it(desk, world):
    tid = created(desk["agent"])["ticket_id"]
    colleague = world.staff(groups=("aftersales",))
    results = [p.call(T, "POST", f"/tickets/{tid}/assign", {"version": 1}) for p in (desk["agent"], colleague)]
    assert sorted(status for status, _ in results) == [200, 409]


def test_an_agent_of_another_group_cannot_touch_the_ticket_but_a_leader_can(desk):
    tid = created(desk["agent"])["ticket_id"]
    # When an agent of logistics edits an after-sales ticket
    status, error = desk["other"].call(T, "PATCH", f"/tickets/{tid}", {"version": 1, "priority": "urgent"})
    # Then it is refused, and nothing changes
    assert status == 403 and error["code"] == "not_your_ticket"
    assert desk["other"].get(T, f"/tickets/{tid}")[0] == 403
    assert tid not in ids(desk["other"])
    assert desk["agent"].get(T, f"/tickets/{tid}")[1]["priority"] == "normal"
    # And the leader may
    assert desk["leader"].call(T, "PATCH", f"/tickets/{tid}", {"version": 1, "priority": "urgent"})[0] == 200


def test_bad_input_gets_a_code_and_writes_nothing(desk):
    agent = desk["agent"]
    for fields, field in (
        ({"type": "refund"}, "type"),
        ({"priority": "asap"}, "priority"),
        ({"description": "长" * 4001}, "description"),
    ):
        status, error = create(agent, **fields)
        assert status == 422 and error["code"] == "validation_error", error
        assert field in json.dumps(error["details"])
    assert ids(agent) == []


def test_a_customer_sees_only_their_tickets_and_only_public_replies(desk, world):
    agent, customer = desk["agent"], desk["customer"]
    tid = created(agent, session_id=desk["chat"])["ticket_id"]
    agent.call(T, "POST", f"/tickets/{tid}/notes", {"text": "内部：财务在查", "public": False})
    agent.call(T, "POST", f"/tickets/{tid}/notes", {"text": "已为您加急处理", "public": True})
    # The customer sees the public reply live, and in their ticket
    assert any(f["event"] == "reply" for f in customer.frames("ticket"))
    status, mine = customer.get(T, "/visitor/tickets")
    assert status == 200 and [t["ticket_id"] for t in mine["items"]] == [tid]
    texts = [e["text"] for e in timeline(customer, tid)]
    assert "已为您加急处理" in texts and "内部：财务在查" not in texts
    assert "session_ids" not in customer.get(T, f"/tickets/{tid}")[1]
    # And the first public reply met the first-response target
    assert agent.get(T, f"/tickets/{tid}")[1]["sla"]["first_response_at"]
    # When another visitor asks for it, it is refused
    stranger = world.visitor()
    status, error = stranger.get(T, f"/tickets/{tid}")
    assert status == 403 and error["code"] == "not_participant"
    assert stranger.get(T, f"/tickets/{tid}/timeline")[0] == 403
    # And the ticket link shows the public part to whoever holds the key
    link = agent.get(T, f"/tickets/{tid}")[1]["link"]
    key = link.split("key=")[1]
    response = world.rest("AuthFunction", "GET", f"/ticket-link/{tid}", query={"key": key})
    assert response["statusCode"] == 200 and "内部" not in response["body"]
    wrong = world.rest("AuthFunction", "GET", f"/ticket-link/{tid}", query={"key": "nope"})
    assert wrong["statusCode"] == 404


def test_a_customer_opens_a_ticket_from_the_widget(desk):
    customer = desk["customer"]
    status, ticket = customer.call(
        T, "POST", "/visitor/tickets", {"type": "logistics", "description": "快递三天没动了", "order_number": "SO-9"}
    )
    assert status == 201 and ticket["source"] == "widget" and ticket["group_id"] == "aftersales"
    assert ticket["ticket_id"] in ids(desk["agent"], assignee="none", group_id="aftersales")
    # A staff-only route stays closed to customers
    assert customer.call(T, "POST", "/tickets", {"type": "other", "description": "x"})[0] == 403


def test_a_not_solved_vote_puts_the_chat_in_the_ticket_pool_once(opened_chat):
    world, agent, visitor, session_id = opened_chat
    visitor.say(session_id, "尺码不对，想换货")
    assert agent.call("AgentFunction", "POST", f"/sessions/{session_id}/end")[0] == 200
    # When the customer votes "not solved"
    rating = {"stars": 2, "comment": "还是不知道怎么换", "solved": False}
    assert visitor.call("VisitorFunction", "POST", f"/sessions/{session_id}/rating", rating)[0] == 200
    # Then a ticket waits in the group's pool, linked to the chat, and the group hears of it
    status, pool = agent.get(T, "/tickets", assignee="none", group_id="presales")
    assert status == 200 and len(pool["items"]) == 1
    ticket = pool["items"][0]
    assert (ticket["source"], ticket["description"], ticket["session_ids"][0]) == (
        "unsolved_chat",
        "还是不知道怎么换",
        session_id,
    )
    assert [f["event"] for f in agent.frames("ticket")] == ["created"]
    # And a second vote changes nothing
    assert visitor.call("VisitorFunction", "POST", f"/sessions/{session_id}/rating", rating)[0] == 409
    assert len(agent.get(T, "/tickets", assignee="none", group_id="presales")[1]["items"]) == 1


def test_an_offline_message_becomes_a_ticket_and_leaves_the_offline_list(desk, world):
    customer, agent = desk["customer"], desk["agent"]
    status, offline = customer.call(
        "VisitorFunction", "POST", "/offline-messages", {"text": "退款的事请回电", "contact": "13800000000"}
    )
    assert status == 201
    ticket = created(agent, session_id=offline["session_id"], description="客户留言：退款的事请回电")
    assert ticket["source"] == "offline_message" and ticket["customer_id"] == customer.id
    queue = agent.get("AgentFunction", "/agent/queue")[1]["items"]
    assert offline["session_id"] not in [s["session_id"] for s in queue]


def test_a_transfer_moves_the_ticket_to_the_other_groups_pool_with_its_reason(desk):
    agent, other = desk["agent"], desk["other"]
    tid = created(agent)["ticket_id"]
    status, error = agent.call(T, "POST", f"/tickets/{tid}/transfer", {"version": 1, "group_id": "logistics"})
    assert status == 422 and error["code"] == "validation_error"
    status, moved = agent.call(
        T, "POST", f"/tickets/{tid}/transfer", {"version": 1, "group_id": "logistics", "reason": "需物流核实"}
    )
    assert status == 200 and (moved["status"], moved["group_id"], moved["assignee_id"]) == (
        "transferred",
        "logistics",
        None,
    )
    assert tid in ids(other, assignee="none", group_id="logistics")
    assert any(f["event"] == "transferred" for f in other.frames("ticket"))
    last = timeline(other, tid)[-1]
    assert (last["kind"], last["text"], last["data"]["to_group"]) == ("transferred", "需物流核实", "logistics")


def test_every_filter_is_served_and_lists_paginate(desk, world):
    agent, leader = desk["agent"], desk["leader"]
    urgent = created(agent, priority="urgent", type="complaint")["ticket_id"]
    world.clock.advance(minutes=1)
    low = created(agent, priority="low", type="suggestion")["ticket_id"]
    world.clock.advance(minutes=1)
    mine = created(agent, assignee_id=agent.id)["ticket_id"]
    assert ids(leader, priority="urgent") == [urgent]
    assert ids(leader, type="suggestion") == [low]
    assert ids(leader, status="processing") == [mine]
    assert ids(agent, assignee="me") == [mine]
    assert ids(leader, assignee="none", group_id="aftersales") == [urgent, low]  # priority first
    assert set(ids(leader, group_id="aftersales")) == {urgent, low, mine}
    assert set(ids(leader, sla="on_track")) == {low, mine}
    assert ids(leader, sla="at_risk") == [urgent]  # 30 minutes to answer: at risk from the start
    assert ids(leader, sla="breached") == []
    created_at = desk["agent"].get(T, f"/tickets/{low}")[1]["created_at"]
    assert ids(leader, created_from=created_at, created_to=created_at) == [low]
    # One at a time, with a cursor
    status, first = leader.get(T, "/tickets", limit=1)
    status, second = leader.get(T, "/tickets", limit=1, cursor=first["next_cursor"])
    assert status == 200 and first["items"][0]["ticket_id"] != second["items"][0]["ticket_id"]
    # SLA state follows the clock
    world.clock.advance(minutes=30)
    assert urgent in ids(leader, sla="breached")
    assert leader.get(T, f"/tickets/{urgent}")[1]["sla"]["state"] == "breached"


def test_resolved_tickets_past_the_retention_are_archived(desk, world):
    agent, customer = desk["agent"], desk["customer"]
    tid = created(agent, session_id=desk["chat"], assignee_id=agent.id)["ticket_id"]
    agent.call(T, "POST", f"/tickets/{tid}/status", {"version": 1, "status": "resolved"})
    from shopdesk.auth import Principal  # shopdesk reads its settings once the stack has set them
    from shopdesk.tickets import Filters

    tickets = world.container.tickets
    world.clock.advance(days=89)
    assert tickets.archive_resolved() == 0
    world.clock.advance(days=2)
    assert tickets.archive_resolved() == 1
    # Then it leaves the live lists (tokens have expired by now: the service is asked directly)
    boss = Principal(role="admin", user_id="boss", roles=("admin",))
    listed = [t.ticket_id for t in tickets.search(boss, Filters(status="resolved"), 50, None).items]
    assert listed == [] and tickets.search(boss, Filters(), 50, None).items == []
    month = world.clock.now().strftime("%Y-%m")
    assert [t.ticket_id for t in tickets.search(boss, Filters(archived_month=month), 50, None).items] == [tid]
    assert [t.ticket_id for t in tickets.of_customer(customer.id, 10, None).items] == [tid]


def test_an_escalation_notice_reaches_the_timeline_and_the_leader_live(desk, world):
    agent, leader = desk["agent"], desk["leader"]
    tid = created(agent, assignee_id=agent.id)["ticket_id"]
    step = {"target": "first_response", "level": 1, "notify": "leader", "priority": "normal", "due_at": "x"}
    record = {
        "EventSource": "aws:sns",
        "Sns": {
            "Message": json.dumps(step),
            "MessageAttributes": {
                "kind": {"Type": "String", "Value": "sla_escalation"},
                "ticket_id": {"Type": "String", "Value": tid},
            },
        },
    }
    for _ in range(2):  # SNS delivers at least once
        assert world.stack.invoke("TicketEventsFunction", {"Records": [record]}) == {"handled": 1}
    assert [e["kind"] for e in timeline(agent, tid)].count("escalated") == 1
    assert any(f["event"] == "escalated" for f in leader.frames("ticket"))
    assert any(f["event"] == "escalated" for f in agent.frames("ticket"))


def test_sla_settings_are_checked_whole_before_they_are_stored(desk, world):
    admin = world.staff(role="admin")
    status, current = admin.get("AdminFunction", "/admin/sla")
    assert status == 200 and current["policies"]["normal"]["first_response_minutes"] == 120
    wanted = {**current, "holidays": ["2026-10-01"], "at_risk_minutes": 15}
    wanted["policies"]["urgent"]["first_response_minutes"] = 10
    status, stored = admin.call("AdminFunction", "PUT", "/admin/sla", wanted)
    assert status == 200 and stored["policies"]["urgent"]["first_response_minutes"] == 10
    bad = {**stored, "ladder": [{"level": 2, "after_minutes": 0, "notify": "leader"}]}
    status, error = admin.call("AdminFunction", "PUT", "/admin/sla", bad)
    assert status == 422 and error["code"] == "validation_error"
    negative = {**stored, "at_risk_minutes": -5}
    assert admin.call("AdminFunction", "PUT", "/admin/sla", negative)[0] == 422
    assert admin.get("AdminFunction", "/admin/sla")[1] == stored
    assert desk["agent"].call("AdminFunction", "PUT", "/admin/sla", stored)[0] == 403
