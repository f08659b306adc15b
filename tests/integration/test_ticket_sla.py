"""Tickets and their SLA escalation, end to end on moto with Step Functions execution on.

The ticket routes start the real state machine (statemachines/sla_escalation.asl.json) with
targets of seconds; moto's interpreter waits, re-reads the ticket and escalates for real.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from tests.integration.conftest import Person, Stack, World

pytestmark = pytest.mark.integration

T = "TicketFunction"


@pytest.fixture(scope="module")
def executing(stack: Stack) -> dict[str, Any]:
    """Alerts on the supervisor topic land in a queue (the stack runs state machines for real)."""
    sqs, sns = boto3.client("sqs", endpoint_url=stack.endpoint), boto3.client("sns", endpoint_url=stack.endpoint)
    queue = sqs.create_queue(QueueName="sla-alerts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=stack.resources.refs["SupervisorTopic"], Protocol="sqs", Endpoint=queue_arn)
    return {"sqs": sqs, "queue": queue, "sfn": boto3.client("stepfunctions", endpoint_url=stack.endpoint)}


@pytest.fixture
def desk(world: World, executing: dict[str, Any]) -> dict[str, Any]:
    """Targets of seconds: normal 2 s to answer and 4 s to resolve, urgent 1 s and 3 s; the admin hears
    1 s after the leader."""
    from shopdesk import keys
    from shopdesk.models import StoreConfigModel

    StoreConfigModel(
        keys.STORE_PK,
        keys.CONFIG_SK,
        sla_policies={
            "normal": {"first_response_seconds": 2, "resolution_seconds": 4, "business_hours": False},
            "urgent": {"first_response_seconds": 1, "resolution_seconds": 3, "business_hours": False},
        },
        escalation_ladder=[
            {"level": 1, "after_seconds": 0, "notify": "leader"},
            {"level": 2, "after_seconds": 1, "notify": "admin", "raise_priority": True},
        ],
    ).save()
    world.group("aftersales", ["退款"], default=True)
    alerts(executing)  # whatever an earlier test left behind
    return {**executing, "world": world, "agent": world.staff(groups=("aftersales",))}


def create(agent: Person, **fields: Any) -> dict[str, Any]:
    catch_up(agent.world)  # due times count from now, as the state machine's waits do
    body = {"type": "after_sales", "priority": "normal", "description": "退款没到账", **fields}
    status, ticket = agent.call(T, "POST", "/tickets", body)
    assert status == 201, ticket
    return dict(ticket)


def finished(desk: dict[str, Any], ticket_id: str, sla_version: int, within: float = 20) -> dict[str, Any]:
    machine = desk["world"].stack.resources.refs["SlaEscalationStateMachine"]
    arn = f"{machine.replace(':stateMachine:', ':execution:')}:{ticket_id}-v{sla_version}"
    deadline = time.monotonic() + within
    while True:
        described: dict[str, Any] = desk["sfn"].describe_execution(executionArn=arn)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described
        time.sleep(0.25)


def alerts(desk: dict[str, Any]) -> list[tuple[str, str, int, str]]:
    """What the supervisors' topic published since the last look."""
    messages: list[dict[str, Any]] = []
    while True:
        received = (
            desk["sqs"]
            .receive_message(QueueUrl=desk["queue"], MaxNumberOfMessages=10, WaitTimeSeconds=0 if messages else 1)
            .get("Messages", [])
        )
        if not received:
            break
        messages += received
    found = []
    for message in messages:
        desk["sqs"].delete_message(QueueUrl=desk["queue"], ReceiptHandle=message["ReceiptHandle"])
        envelope = json.loads(message["Body"])
        step = json.loads(envelope["Message"])
        ticket_id = envelope["MessageAttributes"]["ticket_id"]["Value"]
        found.append((ticket_id, step["target"], step["level"], step["notify"]))
    return sorted(found, key=lambda alert: (alert[0], alert[1] != "first_response", alert[2]))


LADDER = [
    ("first_response", 1, "leader"),
    ("first_response", 2, "admin"),
    ("resolution", 1, "leader"),
    ("resolution", 2, "admin"),
]


def catch_up(world: World) -> None:
    """The test's clock to the wall clock the state machine waits on."""
    world.clock.advance(seconds=(datetime.now(UTC) - world.clock.now()).total_seconds())


def escalations(desk: dict[str, Any], ticket_id: str) -> list[tuple[str, int, str]]:
    return [alert[1:] for alert in alerts(desk) if alert[0] == ticket_id]


def test_an_unanswered_ticket_escalates_to_the_leader_then_the_admin(desk):
    agent = desk["agent"]
    # Given a normal ticket nobody answers
    ticket = create(agent)
    # When its first-response target passes
    run = finished(desk, ticket["ticket_id"], 1)
    assert run["status"] == "SUCCEEDED"
    # Then the supervisors' topic heard the leader, then the admin, for each target in turn
    heard = alerts(desk)
    assert [alert[0] for alert in heard] == [ticket["ticket_id"]] * 4
    assert [alert[1:] for alert in heard] == LADDER
    # And the ticket carries the level, its raised priority, and moved to the high-priority list
    catch_up(desk["world"])
    escalated = agent.get(T, f"/tickets/{ticket['ticket_id']}")[1]
    assert (escalated["sla"]["escalation_level"], escalated["priority"]) == (2, "high")
    assert escalated["sla"]["state"] == "breached" and escalated["version"] == 5
    assert [t["ticket_id"] for t in agent.get(T, "/tickets", priority="high")[1]["items"]] == [ticket["ticket_id"]]


def test_a_ticket_resolved_before_its_due_time_is_not_escalated(desk):
    agent = desk["agent"]
    tid = create(agent, assignee_id=agent.id)["ticket_id"]
    status, _ = agent.call(T, "POST", f"/tickets/{tid}/status", {"version": 1, "status": "resolved"})
    assert status == 200
    assert finished(desk, tid, 1)["status"] == "SUCCEEDED"
    assert escalations(desk, tid) == []
    assert agent.get(T, f"/tickets/{tid}")[1]["sla"]["escalation_level"] == 0


def test_pending_on_the_customer_pauses_the_clock_and_resuming_restarts_it(desk):
    agent = desk["agent"]
    ticket = create(agent, assignee_id=agent.id)
    tid = ticket["ticket_id"]
    # When it waits on the customer before its due time
    agent.call(T, "POST", f"/tickets/{tid}/status", {"version": 1, "status": "pending"})
    # Then the first execution stops itself at its due time, without escalating
    assert finished(desk, tid, 1)["status"] == "SUCCEEDED"
    assert escalations(desk, tid) == []
    # When the agent takes it up again later, the paused time does not count
    catch_up(desk["world"])
    status, resumed = agent.call(T, "POST", f"/tickets/{tid}/status", {"version": 2, "status": "processing"})
    assert status == 200 and resumed["sla"]["state"] in ("on_track", "at_risk")
    assert resumed["sla"]["first_response_due_at"] > ticket["sla"]["first_response_due_at"]
    # And a new execution owns the clock, and escalates when it runs out
    assert finished(desk, tid, 3)["status"] == "SUCCEEDED"
    assert escalations(desk, tid) == LADDER


def test_a_priority_change_restarts_the_timers_and_the_stale_execution_stops(desk):
    agent = desk["agent"]
    ticket = create(agent, assignee_id=agent.id)
    tid = ticket["ticket_id"]
    # When it becomes urgent (1 s instead of 2 s to answer)
    status, urgent = agent.call(T, "PATCH", f"/tickets/{tid}", {"version": 1, "priority": "urgent"})
    assert status == 200 and urgent["sla"]["first_response_due_at"] < ticket["sla"]["first_response_due_at"]
    # Then the new execution escalates on the urgent clock (urgent is already the top priority)
    assert finished(desk, tid, 2)["status"] == "SUCCEEDED"
    # And the stale one, waking at the old due time, stops without a word: one ladder, not two
    stale = finished(desk, tid, 1)
    assert stale["status"] == "SUCCEEDED" and escalations(desk, tid) == LADDER
    history = desk["sfn"].get_execution_history(executionArn=stale["executionArn"], maxResults=1000)["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("StateEntered")]
    assert entered[-1] == "Superseded"


def test_a_duplicate_start_is_harmless(desk):
    agent = desk["agent"]
    ticket = create(agent)
    container = desk["world"].container
    model = container.tickets.readable(container.auth.authenticate(f"Bearer {agent.token}"), ticket["ticket_id"])
    container.tickets.start_sla(model)  # a retried start: same name, refused by Step Functions
    machine = desk["world"].stack.resources.refs["SlaEscalationStateMachine"]
    runs = desk["sfn"].list_executions(stateMachineArn=machine)["executions"]
    assert [run["name"] for run in runs].count(f"{ticket['ticket_id']}-v1") == 1
