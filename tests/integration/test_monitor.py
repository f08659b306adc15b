"""The supervisor's monitoring on moto: counters moved by real chat events, the 3-minute refresh invoked as
the schedule invokes it on an injected clock, alerts captured from SNS, dispatch with its audit, and bad
input that writes nothing."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import boto3
import pytest

from tests.integration.conftest import Person, World

pytestmark = pytest.mark.integration

M = "MonitorFunction"


def refresh_on_schedule(world: World) -> dict[str, Any]:
    """What EventBridge sends every 3 minutes; the handler reads the test's clock through its container."""
    from infra.local.events import scheduled_event

    event = scheduled_event(
        "arn:aws:events:ap-southeast-1:123456789012:rule/every-3-minutes",
        region="ap-southeast-1",
        account_id="123456789012",
        when=world.clock.now().timestamp(),
    )
    result: dict[str, Any] = world.stack.invoke("MonitorRefreshFunction", event)
    return result


def snapshot(leader: Person) -> dict[str, Any]:
    status, body = leader.get(M, "/monitor/snapshot")
    assert status == 200, body
    return dict(body)


def group_of(snap: dict[str, Any], group_id: str) -> dict[str, Any]:
    return next(g for g in snap["groups"] if g["group_id"] == group_id)


def shop_buyer(world: World, user_id: str) -> Person:
    """A buyer the shop signed for, so their orders can be credited to the agent who served them."""
    from shopdesk.auth import sign_shop_user

    ts = int(world.clock.now().timestamp())
    secret = world.container.store_secret.value()
    signed = {"user_id": user_id, "ts": ts, "signature": sign_shop_user(secret, "itest", user_id, ts)}
    response = world.rest("AuthFunction", "POST", "/visitor/token", {"shop_user": signed})
    body = json.loads(response["body"])
    return Person(world, body["visitor_id"], body["token"], "visitor")


@pytest.fixture
def floor(world: World) -> dict[str, Any]:
    """Two groups, two presales agents online, a leader of presales, and an alert inbox per level."""
    world.group("presales", ["尺码"], default=True)
    world.group("aftersales", ["退货"])
    agents = [world.staff(groups=("presales",)) for _ in range(2)]
    for agent in agents:
        agent.connect()
    leader = world.staff(role="leader", groups=("presales",), capacity=0)  # supervises; takes no chats
    leader.connect()
    sqs, sns = (
        boto3.client("sqs", endpoint_url=world.stack.endpoint),
        boto3.client("sns", endpoint_url=world.stack.endpoint),
    )
    inboxes = {}
    for audience in ("shop", "group:presales"):
        queue = sqs.create_queue(QueueName=f"alerts-{audience.replace(':', '-')}-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        policy = json.dumps({"kind": ["threshold_alert"], "audience": [audience]})
        sns.subscribe(
            TopicArn=world.stack.resources.refs["SupervisorTopic"],
            Protocol="sqs",
            Endpoint=arn,
            Attributes={"FilterPolicy": policy, "RawMessageDelivery": "true"},
        )
        inboxes[audience] = queue
    return {"world": world, "agents": agents, "leader": leader, "sqs": sqs, "inboxes": inboxes}


def received(floor: dict[str, Any], audience: str) -> list[str]:
    sqs, queue = floor["sqs"], floor["inboxes"][audience]
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    return [m["Body"] for m in messages]


def test_figures_follow_what_customers_and_agents_do(floor: dict[str, Any]) -> None:
    world, (first, second), leader = floor["world"], floor["agents"], floor["leader"]
    # Given two customers writing to the presales agents at the start of a 3-minute window
    world.clock.advance(seconds=180 - int(world.clock.now().timestamp()) % 180)
    customers = [world.visitor() for _ in range(2)]
    sessions = []
    for customer in customers:
        customer.connect()
        session_id = customer.open_session()
        customer.say(session_id, "这件有L码吗")
        sessions.append(session_id)
    # When the schedule refreshes before anyone answers
    refresh_on_schedule(world)
    snap = snapshot(leader)
    # Then both wait: pending is 2, over 3 online staff (the leader takes chats too), and both are inquiring
    assert snap["shop"]["now"] | {"avg_response_seconds": None} == {
        "avg_response_seconds": None,
        "pending": 2,
        "pending_per_agent": 0.6667,
        "online": 3,
        "suspended": 0,
    }, snap["shop"]["now"]
    assert snap["shop"]["today"]["inquiring_buyers"] == 2
    # When one customer is answered 30 s after asking, the other 90 s after
    holders = [world.container.sessions.get(session_id).agent_id for session_id in sessions]
    assert sorted(holders) == sorted([first.id, second.id]), "least-busy gives each agent one customer"
    staff = {first.id: first, second.id: second}
    world.clock.advance(seconds=30)
    staff[holders[0]].say(sessions[0], "有的亲")
    world.clock.advance(seconds=60)
    staff[holders[1]].say(sessions[1], "有的亲")
    world.clock.advance(minutes=3)
    refresh_on_schedule(world)
    snap = snapshot(leader)
    # Then nobody waits, each agent's average is its own, and the shop's is the mean of the agents' averages
    presales = group_of(snap, "presales")
    by_agent = {a["agent_id"]: a for a in presales["agents"]}
    assert [by_agent[holder]["avg_response_seconds"] for holder in holders] == [30.0, 90.0]
    assert snap["shop"]["now"]["avg_response_seconds"] == 60.0
    assert snap["shop"]["now"]["pending"] == 0 and presales["pending"] == 0
    assert snap["shop"]["today"]["receptions"] == 2
    assert by_agent[first.id]["receptions"] == 1 and by_agent[second.id]["receptions"] == 1


def test_a_payment_after_an_agent_served_the_buyer_is_a_guided_sale(floor: dict[str, Any]) -> None:
    world, leader = floor["world"], floor["leader"]
    # Given a buyer the shop signed for, served by an agent
    buyer = shop_buyer(world, "buyer-42")
    buyer.connect()
    session_id = buyer.open_session()
    buyer.say(session_id, "尺码偏大吗")
    agent_id = world.container.sessions.get(session_id).agent_id
    agent = next(a for a in floor["agents"] if a.id == agent_id)
    agent.say(session_id, "正常尺码")
    # When the shop reports the buyer's payment ten minutes later
    from shopdesk.orders import parse_order_event

    world.clock.advance(minutes=10)
    paid = world.clock.now().strftime("%Y-%m-%dT%H:%M:%S.000Z")
    order = {
        "order_number": "SD20261125077",
        "status": "paid",
        "buyer_id": "buyer-42",
        "amount_cents": 45900,
        "paid_at": paid,
    }
    event = {"event_id": "pay-77", "type": "order.paid", "occurred_at": paid, "order": order}
    world.container.orders.apply(parse_order_event(event))
    world.container.orders.apply(parse_order_event({**event, "event_id": "pay-77-again"}))
    refresh_on_schedule(world)
    # Then the agent and the shop are credited once, and the buyer converted
    snap = snapshot(leader)
    assert snap["shop"]["today"] | {"receptions": 1} == {
        "receptions": 1,
        "guided_amount_cents": 45900,
        "guided_buyers": 1,
        "inquiring_buyers": 1,
        "conversion_rate": 1.0,
    }, snap["shop"]["today"]


def test_alerts_go_to_each_levels_recipients_and_the_shop_suppresses_its_groups(floor: dict[str, Any]) -> None:
    world, leader = floor["world"], floor["leader"]
    # Given thresholds on the shop and on presales, with recipients on each level
    settings = {
        "shop": {"enabled": True, "thresholds": {"pending_per_agent": 1.5}, "recipients": ["boss@example.com"]},
        "groups": {
            "presales": {
                "enabled": True,
                "thresholds": {"pending": 1},
                "agent_thresholds": {"pending": 5},
                "recipients": ["+8613800000000"],
            }
        },
    }
    status, saved = leader.call(M, "PUT", "/monitor/alerts", settings)
    assert status == 200 and saved["shop"]["thresholds"] == {"pending_per_agent": 1.5}, saved
    # When two customers wait: the group alerts (pending 2 > 1), the shop does not (2 / 3 online < 1.5)
    for _ in range(2):
        customer = world.visitor()
        customer.connect()
        customer.say(customer.open_session(), "在吗")
    refresh_on_schedule(world)
    # Then the group's recipients get its message, it is busy and red, and the shop's get nothing
    group_messages = received(floor, "group:presales")
    assert len(group_messages) == 1 and "待回复" in group_messages[0], group_messages
    assert received(floor, "shop") == []
    presales = group_of(snapshot(leader), "presales")
    assert presales["state"] == "busy" and [a["figure"] for a in presales["alerts"]] == ["pending"]
    assert group_of(snapshot(leader), "aftersales")["state"] is None
    # When enough customers wait for the shop to alert too
    for _ in range(3):
        customer = world.visitor()
        customer.connect()
        customer.say(customer.open_session(), "在吗")
    refresh_on_schedule(world)
    # Then only the shop's message is sent that round
    assert len(received(floor, "shop")) == 1
    assert received(floor, "group:presales") == []


def test_bad_alert_settings_and_dispatch_by_an_agent_are_refused_and_write_nothing(floor: dict[str, Any]) -> None:
    world, leader, agent = floor["world"], floor["leader"], floor["agents"][0]
    before = leader.get(M, "/monitor/alerts")[1]
    cases = [
        ({"shop": {"thresholds": {"pending_per_agent": -1}}}, "validation_error"),
        ({"shop": {"thresholds": {"pending_per_agent": "many"}}}, "validation_error"),
        ({"shop": {"recipients": [f"r{n}@example.com" for n in range(11)]}}, "validation_error"),
        ({"shop": {"recipients": ["not-an-address"]}}, "validation_error"),
        ({"shop": {"recipients": ["13800000000"]}}, "validation_error"),
        ({"groups": {"nowhere": {"enabled": True}}}, "validation_error"),
    ]
    for body, code in cases:
        # When a leader sends bad settings, each is refused with its code
        status, refused = leader.call(M, "PUT", "/monitor/alerts", body)
        assert status == 422 and refused["code"] == code, (body, refused)
    # And nothing was written
    assert leader.get(M, "/monitor/alerts")[1] == before
    # When an agent tries to dispatch, it is refused, and the agent is not suspended
    status, refused = agent.call(M, "POST", "/monitor/dispatch", {"action": "suspend", "agent_ids": [agent.id]})
    assert status == 403 and refused["code"] == "forbidden"
    assert world.container.agents.get(agent.id).suspended is False


def test_a_leader_suspends_and_moves_agents_of_their_groups_and_it_is_audited(floor: dict[str, Any]) -> None:
    world, leader, (first, second) = floor["world"], floor["leader"], floor["agents"]
    outsider = world.staff(groups=("aftersales",))
    # When the leader suspends both presales agents and, in the same batch, one from another group
    body = {"action": "suspend", "agent_ids": [first.id, second.id, outsider.id]}
    status, result = leader.call(M, "POST", "/monitor/dispatch", body)
    # Then theirs are suspended at once, the other is refused, and the figures show it
    assert status == 200, result
    assert [r["ok"] for r in result["results"]] == [True, True, False]
    assert result["results"][2]["code"] == "forbidden"
    assert group_of(result["snapshot"], "presales")["suspended"] == 2
    # And a new customer is not routed to them
    customer = world.visitor()
    customer.connect()
    session_id = customer.open_session()
    customer.say(session_id, "尺码")
    assert world.container.sessions.get(session_id).status == "queued"
    # When the leader resumes one a moment later, the waiting customer gets them
    world.clock.advance(seconds=1)
    leader.call(M, "POST", "/monitor/dispatch", {"action": "resume", "agent_ids": [first.id]})
    assert world.container.sessions.get(session_id).agent_id == first.id
    # And every action is in the audit log, newest first
    status, audit = leader.get(M, "/monitor/audit")
    assert all(i["actor"]["name"] for i in audit["items"]), audit
    actions = [(i["action"], i["target"], i["actor"]["id"]) for i in audit["items"]]
    assert actions[0] == ("agent.resume", first.id, leader.id), audit
    assert sorted(actions[1:]) == sorted([("agent.suspend", a.id, leader.id) for a in (first, second)]), audit


def test_concurrent_replies_keep_the_counters_consistent(floor: dict[str, Any]) -> None:
    world, agent = floor["world"], floor["agents"][0]
    # Given many replies by one agent at once, each answering a 2-second wait
    metrics = world.container.metrics
    waited = (world.clock.now().replace(microsecond=0)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    world.clock.advance(seconds=2)
    threads = [threading.Thread(target=metrics.agent_replied, args=(agent.id, f"v-{n}", waited)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # When the window closes
    world.clock.advance(minutes=3)
    counters = metrics.read([agent.id], metrics.today(), metrics.previous_window(world.clock.now()))
    # Then every reply counted, once
    window = counters.windows[agent.id]
    assert (int(window.responses), int(window.response_ms)) == (20, 40_000)
    assert len(counters.days[agent.id].buyers) == 20


def test_yesterday_is_frozen_at_midnight_and_shown_beside_today(floor: dict[str, Any]) -> None:
    world = floor["world"]
    # Given a customer served today
    customer = world.visitor()
    customer.connect()
    session_id = customer.open_session()
    customer.say(session_id, "在吗")
    agent_id = world.container.sessions.get(session_id).agent_id
    next(a for a in floor["agents"] if a.id == agent_id).say(session_id, "在的")
    # When the day ends and the hourly job runs after midnight
    world.clock.advance(days=1)
    closed = world.stack.invoke("MonitorDailyFunction", {"source": "aws.events", "detail-type": "Scheduled Event"})
    # And again an hour later, when another customer has been served: the day stays as it was closed
    world.clock.advance(hours=1)
    late = world.visitor()
    late.connect()
    late_session = late.open_session()
    late.say(late_session, "还在吗")
    holder = world.container.sessions.get(late_session).agent_id
    next(a for a in floor["agents"] if a.id == holder).say(late_session, "在的")
    again = world.stack.invoke("MonitorDailyFunction", {"source": "aws.events", "detail-type": "Scheduled Event"})
    assert again == closed
    refresh_on_schedule(world)
    # Then today counts only today, with yesterday's frozen figures beside it (read as stored: tokens expired)
    snap = world.container.monitor.latest()
    assert snap is not None
    assert closed["closed"] < snap["day"]
    assert snap["shop"]["yesterday"]["receptions"] == 1
    assert snap["shop"]["today"]["receptions"] == 1  # only the customer served after midnight
