"""statemachines/sla_escalation.asl.json, run for real by moto's Step Functions interpreter."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.local.moto_backend import BackgroundBackend, enable_step_functions
from infra.local.provision import create_tables
from infra.local.template import load_template
from tests.integration.conftest import free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
REGION = "ap-southeast-1"
TABLE = "sla-test"


@pytest.fixture(scope="module")
def machine() -> Any:
    port = free_port()
    backend = BackgroundBackend("127.0.0.1", port).start()
    shared_port = os.environ.get("MOTO_PORT")
    os.environ["MOTO_PORT"] = str(port)  # moto's interpreter calls its service tasks on localhost:$MOTO_PORT
    enable_step_functions(backend.url)
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    clients = {name: session.client(name, endpoint_url=backend.url) for name in ("dynamodb", "sns", "sqs")}
    create_tables(load_template(ROOT / "template.yaml"), clients["dynamodb"], names={"DataTable": TABLE})
    topic = clients["sns"].create_topic(Name="supervisors")["TopicArn"]
    queue = clients["sqs"].create_queue(QueueName="alerts")["QueueUrl"]
    attributes = clients["sqs"].get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]
    clients["sns"].subscribe(TopicArn=topic, Protocol="sqs", Endpoint=attributes["QueueArn"])
    definition = (ROOT / "statemachines/sla_escalation.asl.json").read_text()
    definition = definition.replace("${TableName}", TABLE).replace("${SupervisorTopicArn}", topic)
    stepfunctions = session.client("stepfunctions", endpoint_url=backend.url)
    arn = stepfunctions.create_state_machine(
        name="sla-escalation", definition=definition, roleArn="arn:aws:iam::123456789012:role/sfn"
    )["stateMachineArn"]
    yield {"arn": arn, "sfn": stepfunctions, "queue": queue, **clients}
    backend.stop()
    if shared_port is not None:  # the shared stack's machines call back there
        os.environ["MOTO_PORT"] = shared_port


def at(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def put_ticket(machine: Any, ticket_id: str, **fields: dict[str, str]) -> None:
    item = {"pk": {"S": f"TICKET#{ticket_id}"}, "sk": {"S": "META"}, "status": {"S": "processing"}}
    item["sla_version"] = {"N": "1"}
    item.update(fields)
    machine["dynamodb"].put_item(TableName=TABLE, Item=item)


def ladder(target_due: float) -> list[dict[str, Any]]:
    """First response: level 1 (leader) at the due time, level 2 (admin, priority raised) a second later."""
    return [
        {
            "target": "first_response",
            "due_at": at(target_due),
            "level": 1,
            "notify": "leader",
            "priority": "normal",
            "priority_list": "TICKETS#PRIORITY#normal",
            "queue_key": "2#due#t",
            "next_target_index": 2,
        },
        {
            "target": "first_response",
            "due_at": at(target_due + 1),
            "level": 2,
            "notify": "admin",
            "priority": "high",
            "priority_list": "TICKETS#PRIORITY#high",
            "queue_key": "1#due#t",
            "next_target_index": 2,
        },
    ]


def run(machine: Any, ticket_id: str, steps: list[dict[str, Any]], version: str = "1") -> dict[str, Any]:
    name = f"{ticket_id}-v{version}"
    payload = {"ticket_id": ticket_id, "sla_version": version, "steps": steps, "count": len(steps), "index": 0}
    execution = machine["sfn"].start_execution(stateMachineArn=machine["arn"], name=name, input=json.dumps(payload))
    deadline = time.monotonic() + 30
    while True:
        described = machine["sfn"].describe_execution(executionArn=execution["executionArn"])
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described
        time.sleep(0.2)


def transitions(machine: Any, execution: dict[str, Any]) -> int:
    """State transitions, as Step Functions bills them: one per state entered."""
    history = machine["sfn"].get_execution_history(executionArn=execution["executionArn"], maxResults=1000)
    return sum(1 for event in history["events"] if event["type"].endswith("StateEntered"))


def alerts(machine: Any) -> list[dict[str, Any]]:
    received = machine["sqs"].receive_message(QueueUrl=machine["queue"], MaxNumberOfMessages=10, WaitTimeSeconds=1)
    messages = [json.loads(json.loads(m["Body"])["Message"]) for m in received.get("Messages", [])]
    for message in received.get("Messages", []):
        machine["sqs"].delete_message(QueueUrl=machine["queue"], ReceiptHandle=message["ReceiptHandle"])
    return messages


def ticket(machine: Any, ticket_id: str) -> dict[str, Any]:
    key = {"pk": {"S": f"TICKET#{ticket_id}"}, "sk": {"S": "META"}}
    return dict(machine["dynamodb"].get_item(TableName=TABLE, Key=key)["Item"])


def test_a_breach_escalates_level_by_level_and_alerts_the_supervisors(machine):
    put_ticket(machine, "t-breach")
    finished = run(machine, "t-breach", ladder(1))
    assert finished["status"] == "SUCCEEDED"
    assert transitions(machine, finished) == 20  # quoted in docs/tickets-and-sla.md
    item = ticket(machine, "t-breach")
    assert item["escalation_level"]["N"] == "2" and item["priority"]["S"] == "high"
    assert (item["gsi5pk"]["S"], item["gsi3sk"]["S"]) == ("TICKETS#PRIORITY#high", "1#due#t")
    assert [(a["level"], a["notify"]) for a in alerts(machine)] == [(1, "leader"), (2, "admin")]
    breaches = machine["dynamodb"].query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :breach)",
        ExpressionAttributeValues={":pk": {"S": "TICKET#t-breach"}, ":breach": {"S": "BREACH#"}},
    )["Items"]
    assert sorted(b["sk"]["S"] for b in breaches) == ["BREACH#first_response#1", "BREACH#first_response#2"]


def test_a_target_met_before_its_due_time_escalates_nothing(machine):
    put_ticket(machine, "t-met", first_response_at={"S": "2026-11-25T10:00:00Z"})
    finished = run(machine, "t-met", ladder(1))
    assert finished["status"] == "SUCCEEDED"
    assert transitions(machine, finished) == 8
    assert "escalation_level" not in ticket(machine, "t-met")
    assert alerts(machine) == []


def test_a_newer_sla_version_stops_the_stale_execution(machine):
    put_ticket(machine, "t-stale", sla_version={"N": "2"})
    assert run(machine, "t-stale", ladder(1), version="1")["status"] == "SUCCEEDED"
    assert "escalation_level" not in ticket(machine, "t-stale")
    assert alerts(machine) == []


def test_a_resolved_ticket_is_not_escalated_for_resolution(machine):
    put_ticket(machine, "t-done", status={"S": "resolved"})
    steps = [
        {
            "target": "resolution",
            "due_at": at(1),
            "level": 1,
            "notify": "leader",
            "priority": "normal",
            "next_target_index": 1,
        }
    ]
    assert run(machine, "t-done", steps)["status"] == "SUCCEEDED"
    assert "escalation_level" not in ticket(machine, "t-done")


def test_a_duplicate_start_is_refused_by_name(machine):
    put_ticket(machine, "t-dup", first_response_at={"S": "2026-11-25T10:00:00Z"})
    payload = json.dumps({"ticket_id": "t-dup", "sla_version": "1", "steps": ladder(5), "count": 2, "index": 0})
    machine["sfn"].start_execution(stateMachineArn=machine["arn"], name="t-dup-v1", input=payload)
    with pytest.raises(machine["sfn"].exceptions.ExecutionAlreadyExists):
        machine["sfn"].start_execution(stateMachineArn=machine["arn"], name="t-dup-v1", input=payload + " ")
