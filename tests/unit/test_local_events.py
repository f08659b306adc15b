"""Schedules fired from the local clock, and SQS sources polled like Lambda's event source mapping."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from infra.local.events import (
    ScheduleBinding,
    ScheduleRunner,
    SqsBinding,
    SqsPoller,
    failed_message_ids,
    scheduled_event,
    sqs_record,
)
from infra.local.handlers import LambdaRuntime, LocalFunction
from infra.local.template import ScheduleSpec, SqsSourceSpec, parse_schedule_expression

REGION = "ap-southeast-1"
RULE = "arn:aws:events:ap-southeast-1:123456789012:rule/shopdesk-demo-Sweep-EveryMinute"


def _runtime(**handlers: Any) -> LambdaRuntime:
    return LambdaRuntime(
        {name: LocalFunction(name, name, f"arn:aws:lambda:{REGION}:1:function:{name}", 128, 3, handler)
         for name, handler in handlers.items()},
        concurrency=2,
    )  # fmt: skip


def _schedule(text: str = "rate(1 minute)", *, schedule_input: str | None = None) -> ScheduleBinding:
    spec = ScheduleSpec("Sweep", "EveryMinute", text, parse_schedule_expression(text), True, schedule_input)
    return ScheduleBinding(spec, RULE)


# --------------------------------------------------------------------------- shapes


@pytest.mark.unit
def test_scheduled_event_has_eventbridge_shape() -> None:
    event = scheduled_event(RULE, region=REGION, account_id="123456789012", when=1_795_000_000)
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["resources"] == [RULE]
    assert (event["version"], event["account"], event["region"], event["detail"]) == (
        "0",
        "123456789012",
        REGION,
        {},
    )
    assert event["time"] == "2026-11-18T11:06:40Z"
    assert len(event["id"]) == 36


@pytest.mark.unit
def test_sqs_record_has_lambda_shape() -> None:
    message = {
        "MessageId": "m-1",
        "ReceiptHandle": "rh",
        "Body": '{"session_id": "s-1"}',
        "MD5OfBody": "md5",
        "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1"},
        "MessageAttributes": {
            "kind": {"DataType": "String", "StringValue": "reminder"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
        "MD5OfMessageAttributes": "md5a",
    }
    record = sqs_record(message, queue_arn="arn:aws:sqs:r:1:q", region=REGION)
    assert record["messageId"] == "m-1" and record["receiptHandle"] == "rh"
    assert record["body"] == '{"session_id": "s-1"}'
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"]["kind"] == {
        "stringValue": "reminder",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert record["messageAttributes"]["blob"]["binaryValue"] == "AAE="
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == (
        "aws:sqs",
        "arn:aws:sqs:r:1:q",
        REGION,
    )
    assert (record["md5OfBody"], record["md5OfMessageAttributes"]) == ("md5", "md5a")


@pytest.mark.unit
@pytest.mark.parametrize(
    ("response", "failed"),
    [
        (None, set()),
        ({}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, {"a", "b"}),
        ({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, {"a", "b"}),
        ({"batchItemFailures": [{"wrongKey": "a"}]}, {"a", "b"}),
        ("not an object", {"a", "b"}),
    ],
)
def test_batch_item_failures_follow_lambdas_rules(response: Any, failed: set[str]) -> None:
    assert failed_message_ids(response, ["a", "b"]) == failed


# --------------------------------------------------------------------------- schedules


class FakeClock:
    """Time that moves only when the code under test sleeps."""

    def __init__(self, start: float) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@pytest.mark.unit
def test_rate_schedule_fires_every_interval_with_an_injected_clock() -> None:
    # Given a rate(1 minute) schedule and a clock that starts at t0
    t0 = 1_795_000_000.0
    clock = FakeClock(t0)
    seen: list[dict[str, Any]] = []
    runtime = _runtime(Sweep=lambda event, context: seen.append(event))
    runner = ScheduleRunner([_schedule()], runtime, region=REGION, account_id="1", clock=clock, sleep=clock.sleep)

    async def scenario() -> None:
        task = asyncio.create_task(runner.run())
        while len(seen) < 3:
            await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    try:
        # When it runs for three ticks
        asyncio.run(scenario())
    finally:
        runtime.shutdown()
    # Then it fired at t0+60, t0+120, t0+180 without waiting in real time
    assert [event["time"] for event in seen[:3]] == [
        "2026-11-18T11:07:40Z",
        "2026-11-18T11:08:40Z",
        "2026-11-18T11:09:40Z",
    ]
    assert clock.sleeps[:3] == [60.0, 60.0, 60.0]
    assert seen[0]["resources"] == [RULE]


@pytest.mark.unit
def test_schedule_scale_shortens_rates_and_input_replaces_the_event() -> None:
    clock = FakeClock(0.0)
    seen: list[Any] = []
    runtime = _runtime(Sweep=lambda event, context: seen.append(event))
    binding = _schedule("rate(1 hour)", schedule_input='{"mode": "full"}')
    runner = ScheduleRunner(
        [binding], runtime, region=REGION, account_id="1", clock=clock, sleep=clock.sleep, scale=0.01
    )

    async def scenario() -> None:
        task = asyncio.create_task(runner.run())
        while not seen:
            await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    try:
        asyncio.run(scenario())
    finally:
        runtime.shutdown()
    assert clock.sleeps[0] == pytest.approx(36.0)
    assert seen[0] == {"mode": "full"}


@pytest.mark.unit
def test_fire_runs_a_functions_schedule_now_and_returns_its_result() -> None:
    runtime = _runtime(Sweep=lambda event, context: {"swept": event["detail-type"]})
    runner = ScheduleRunner([_schedule()], runtime, region=REGION, account_id="1")
    try:
        assert asyncio.run(runner.fire("Sweep")) == {"swept": "Scheduled Event"}
        with pytest.raises(KeyError):
            asyncio.run(runner.fire("Nobody"))
    finally:
        runtime.shutdown()


# --------------------------------------------------------------------------- SQS against moto


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def sqs() -> Iterator[Any]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    client = boto3.client(
        "sqs",
        endpoint_url=f"http://{host}:{port}",
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    yield client
    server.stop()


def _queue(sqs: Any, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _counts(sqs: Any, url: str) -> tuple[int, int]:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def _poll(sqs: Any, name: str, handler: Any, *, report_failures: bool) -> tuple[Any, str, list[Any]]:
    url, arn = _queue(sqs, name)
    spec = SqsSourceSpec("Worker", "Jobs", "Queue", 10, ("ReportBatchItemFailures",) if report_failures else (), True)
    seen: list[Any] = []

    def record_and_handle(event: Any, context: Any) -> Any:
        seen.append(event)
        return handler(event, context)

    runtime = _runtime(Worker=record_and_handle)
    poller = SqsPoller(SqsBinding(spec, url, arn), runtime, sqs, REGION)
    return poller, url, seen


@pytest.mark.integration
def test_poller_deletes_succeeded_records_and_keeps_reported_failures(sqs: Any) -> None:
    # Given a ReportBatchItemFailures source whose handler fails the record with body "fail"
    def handler(event: Any, context: Any) -> Any:
        return {
            "batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "fail"]
        }

    poller, url, seen = _poll(sqs, "partial", handler, report_failures=True)
    for body in ("ok-1", "fail", "ok-2"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    # When it polls once
    result = asyncio.run(poller.poll_once())
    # Then the handler saw all three, two were deleted, and the failed one waits out its visibility timeout
    assert sorted(record["body"] for record in seen[0]["Records"]) == ["fail", "ok-1", "ok-2"]
    assert seen[0]["Records"][0]["eventSourceARN"].endswith(":partial")
    assert (result.received, result.deleted, result.kept) == (3, 2, 1)
    assert _counts(sqs, url) == (0, 1)


@pytest.mark.integration
def test_poller_keeps_the_whole_batch_when_the_handler_raises(sqs: Any) -> None:
    def handler(event: Any, context: Any) -> None:
        raise RuntimeError("database down")

    poller, url, _ = _poll(sqs, "crash", handler, report_failures=True)
    sqs.send_message(QueueUrl=url, MessageBody="a")
    sqs.send_message(QueueUrl=url, MessageBody="b")
    result = asyncio.run(poller.poll_once())
    assert (result.received, result.deleted, result.kept) == (2, 0, 2)
    assert result.error == "RuntimeError: database down"
    assert _counts(sqs, url) == (0, 2)


@pytest.mark.integration
def test_without_report_batch_item_failures_a_returned_list_is_ignored(sqs: Any) -> None:
    def handler(event: Any, context: Any) -> Any:
        return {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}

    poller, url, _ = _poll(sqs, "plain", handler, report_failures=False)
    sqs.send_message(QueueUrl=url, MessageBody="a")
    result = asyncio.run(poller.poll_once())
    assert (result.deleted, result.kept) == (1, 0)
    assert _counts(sqs, url) == (0, 0)


@pytest.mark.integration
def test_delayed_messages_arrive_only_after_their_delay(sqs: Any) -> None:
    # Given a message sent with DelaySeconds=2 (moto honours it, so the poller needs no timer of its own)
    poller, url, seen = _poll(sqs, "delayed", lambda event, context: None, report_failures=True)
    sent = time.monotonic()
    sqs.send_message(QueueUrl=url, MessageBody="reminder", DelaySeconds=2)
    # When polled right away, Then nothing arrives
    assert asyncio.run(poller.poll_once(wait_seconds=0)).received == 0
    # And once the delay has passed, it does
    time.sleep(max(0.0, 2.1 - (time.monotonic() - sent)))
    assert asyncio.run(poller.poll_once()).received == 1
    assert seen[0]["Records"][0]["body"] == "reminder"
