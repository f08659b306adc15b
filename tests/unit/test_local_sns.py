"""SNS event sources: notifications posted to the local gateway become Lambda SNS events."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aiohttp.test_utils import TestClient, TestServer
from moto.server import ThreadedMotoServer

from infra.local.events import SnsBinding, SnsSource, sns_event, sns_record, subscription_attributes
from infra.local.gateway import Gateway, GatewaySettings
from infra.local.handlers import LambdaRuntime, LocalFunction
from infra.local.template import SnsSourceSpec

pytestmark = pytest.mark.unit

REGION = "ap-southeast-1"
TOPIC_ARN = f"arn:aws:sns:{REGION}:123456789012:shopdesk-demo-SupervisorTopic"
SUBSCRIPTION_ARN = f"{TOPIC_ARN}:0b4bd9c4-4bd5-4b6b-8f2a-2f6f0f9d8f11"
FILTER = {"kind": ["sla_escalation"]}

NOTIFICATION = {
    "Type": "Notification",
    "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
    "TopicArn": TOPIC_ARN,
    "Subject": "ShopDesk SLA escalation",
    "Message": '{"target":"first_response","level":1,"notify":"leader"}',
    "Timestamp": "2026-11-18T11:06:40.123Z",
    "SignatureVersion": "2",
    "Signature": "c2lnbmF0dXJl",
    "SigningCertURL": f"https://sns.{REGION}.amazonaws.com/SimpleNotificationService-abc.pem",
    "UnsubscribeURL": f"https://sns.{REGION}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={SUBSCRIPTION_ARN}",
    "MessageAttributes": {
        "kind": {"Type": "String", "Value": "sla_escalation"},
        "ticket_id": {"Type": "String", "Value": "T-1"},
    },
}


def _binding(filter_policy: dict[str, Any] | None = FILTER, topic_arn: str = TOPIC_ARN) -> SnsBinding:
    spec = SnsSourceSpec("Escalate", "Escalations", "SupervisorTopic", filter_policy, True)
    return SnsBinding(spec, topic_arn, filter_policy)


def _runtime(**handlers: Any) -> LambdaRuntime:
    return LambdaRuntime(
        {name: LocalFunction(name, name, f"arn:aws:lambda:{REGION}:1:function:{name}", 128, 3, handler)
         for name, handler in handlers.items()},
        concurrency=2,
    )  # fmt: skip


def _settings() -> GatewaySettings:
    return GatewaySettings(
        region=REGION,
        account_id="123456789012",
        rest_api=None,
        rest_stage="prod",
        rest_api_id="local",
        websocket_api=None,
        websocket_stage=None,
        websocket_api_id="local",
    )


class FakeSns:
    """Records what the source asks of SNS."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def subscribe(self, **request: Any) -> dict[str, Any]:
        self.calls.append(("subscribe", request))
        return {"SubscriptionArn": SUBSCRIPTION_ARN}

    def confirm_subscription(self, **request: Any) -> dict[str, Any]:
        self.calls.append(("confirm_subscription", request))
        return {"SubscriptionArn": SUBSCRIPTION_ARN}


# --------------------------------------------------------------------------- shapes


def test_a_notification_becomes_the_event_lambdas_sns_trigger_sends() -> None:
    # When an HTTP notification is turned into a Lambda event
    event = sns_event(NOTIFICATION, subscription_arn=SUBSCRIPTION_ARN)
    # Then it is one record, shaped and spelt as Lambda's (SigningCertUrl, UnsubscribeUrl)
    (record,) = event["Records"]
    assert record == {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": SUBSCRIPTION_ARN,
        "Sns": {
            "Type": "Notification",
            "MessageId": NOTIFICATION["MessageId"],
            "TopicArn": TOPIC_ARN,
            "Subject": "ShopDesk SLA escalation",
            "Message": NOTIFICATION["Message"],
            "Timestamp": "2026-11-18T11:06:40.123Z",
            "SignatureVersion": "2",
            "Signature": "c2lnbmF0dXJl",
            "SigningCertUrl": NOTIFICATION["SigningCertURL"],
            "UnsubscribeUrl": NOTIFICATION["UnsubscribeURL"],
            "MessageAttributes": {
                "kind": {"Type": "String", "Value": "sla_escalation"},
                "ticket_id": {"Type": "String", "Value": "T-1"},
            },
        },
    }


def test_a_notification_without_subject_or_attributes_still_has_both_keys() -> None:
    # Given a notification with neither Subject nor MessageAttributes
    bare = {key: value for key, value in NOTIFICATION.items() if key not in ("Subject", "MessageAttributes")}
    # Then Lambda's record has Subject null and empty MessageAttributes, as on AWS
    sns = sns_record(bare, subscription_arn=SUBSCRIPTION_ARN)["Sns"]
    assert sns["Subject"] is None
    assert sns["MessageAttributes"] == {}


def test_the_subscription_carries_the_filter_policy_and_the_json_envelope() -> None:
    assert subscription_attributes(_binding()) == {
        "RawMessageDelivery": "false",
        "FilterPolicy": json.dumps(FILTER),
    }
    assert subscription_attributes(_binding(None)) == {"RawMessageDelivery": "false"}


def test_subscribe_asks_for_the_subscriptions_arn() -> None:
    sns = FakeSns()
    source = SnsSource(_binding(), _runtime(), sns)
    assert source.subscribe("http://127.0.0.1:3001/_local/sns/Escalate?event=Escalations") == SUBSCRIPTION_ARN
    ((name, request),) = sns.calls
    assert name == "subscribe"
    assert request["Protocol"] == "http" and request["TopicArn"] == TOPIC_ARN
    assert request["ReturnSubscriptionArn"] is True
    assert json.loads(request["Attributes"]["FilterPolicy"]) == FILTER


# --------------------------------------------------------------------------- the gateway endpoint


def test_the_gateway_answers_at_once_and_invokes_the_function_afterwards() -> None:
    # Given a function that blocks until released, behind the gateway's SNS endpoint
    release = threading.Event()
    seen: list[Any] = []

    def handler(event: Any, context: Any) -> None:
        assert release.wait(10)
        seen.append(event)

    runtime = _runtime(Escalate=handler)
    source = SnsSource(_binding(), runtime, FakeSns())
    source.subscription_arn = SUBSCRIPTION_ARN
    gateway = Gateway(_settings(), runtime, sns_sources=[source])

    async def scenario() -> None:
        async with TestClient(TestServer(gateway.app())) as client:
            # When SNS posts a notification (as text/plain, as SNS and moto do)
            started = time.monotonic()
            response = await client.post(
                gateway.sns_path(source),
                data=json.dumps(NOTIFICATION),
                headers={"Content-Type": "text/plain; charset=UTF-8"},
            )
            # Then it is answered 200 while the function is still running
            assert response.status == 200
            assert time.monotonic() - started < 5
            assert seen == []
            # And once the function finishes, it got the SNS event with the subscription's ARN
            release.set()
            await gateway.background_idle()
            assert seen == [sns_event(NOTIFICATION, subscription_arn=SUBSCRIPTION_ARN)]

    try:
        asyncio.run(scenario())
    finally:
        release.set()
        runtime.shutdown()


def test_a_failing_function_is_logged_and_the_delivery_still_succeeds(caplog: pytest.LogCaptureFixture) -> None:
    # Given a function that raises
    def handler(event: Any, context: Any) -> None:
        raise RuntimeError("ticket T-1 does not exist")

    runtime = _runtime(Escalate=handler)
    source = SnsSource(_binding(), runtime, FakeSns())
    gateway = Gateway(_settings(), runtime, sns_sources=[source])

    async def scenario() -> int:
        async with TestClient(TestServer(gateway.app())) as client:
            response = await client.post("/_local/sns/Escalate", data=json.dumps(NOTIFICATION))
            await gateway.background_idle()
            return response.status

    try:
        # When a notification comes in
        status = asyncio.run(scenario())
    finally:
        runtime.shutdown()
    # Then SNS got its 200 and the error is in the log, with the message id
    assert status == 200
    assert "Escalate failed on SNS message 95df01b4" in caplog.text
    assert "ticket T-1 does not exist" in caplog.text


def test_a_subscription_confirmation_is_confirmed_with_its_token() -> None:
    # Given the endpoint of a source (LocalStack and AWS confirm HTTP subscriptions; moto does not)
    sns = FakeSns()
    runtime = _runtime(Escalate=lambda event, context: None)
    source = SnsSource(_binding(), runtime, sns)
    gateway = Gateway(_settings(), runtime, sns_sources=[source])
    confirmation = {
        "Type": "SubscriptionConfirmation",
        "MessageId": "m-1",
        "Token": "tok-123",
        "TopicArn": TOPIC_ARN,
        "Message": "You have chosen to subscribe to the topic…",
        "SubscribeURL": "http://localhost:4566/?Action=ConfirmSubscription&Token=tok-123",
        "Timestamp": "2026-11-18T11:06:40.123Z",
    }

    async def scenario() -> int:
        async with TestClient(TestServer(gateway.app())) as client:
            response = await client.post(
                gateway.sns_path(source),
                data=json.dumps(confirmation),
                headers={"x-amz-sns-message-type": "SubscriptionConfirmation"},
            )
            await gateway.background_idle()
            return response.status

    try:
        # When the confirmation is posted
        status = asyncio.run(scenario())
    finally:
        runtime.shutdown()
    # Then it is acknowledged, and the subscription confirmed with the token, without invoking anything
    assert status == 200
    assert sns.calls == [("confirm_subscription", {"TopicArn": TOPIC_ARN, "Token": "tok-123"})]
    assert source.subscription_arn == SUBSCRIPTION_ARN


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/_local/sns/Nobody", json.dumps(NOTIFICATION), 404),
        ("/_local/sns/Escalate?event=Other", json.dumps(NOTIFICATION), 404),
        ("/_local/sns/Escalate", "not json", 400),
        ("/_local/sns/Escalate", json.dumps({"Type": "Something"}), 400),
        ("/_local/sns/Escalate", json.dumps({"Type": "Notification", "Message": "no id"}), 400),
    ],
)
def test_the_endpoint_rejects_what_is_not_a_notification_for_a_source(path: str, body: str, status: int) -> None:
    runtime = _runtime(Escalate=lambda event, context: pytest.fail("must not be invoked"))
    gateway = Gateway(_settings(), runtime, sns_sources=[SnsSource(_binding(), runtime, FakeSns())])

    async def scenario() -> int:
        async with TestClient(TestServer(gateway.app())) as client:
            response = await client.post(path, data=body)
            await gateway.background_idle()
            return response.status

    try:
        assert asyncio.run(scenario()) == status
    finally:
        runtime.shutdown()


# --------------------------------------------------------------------------- against moto


@pytest.fixture(scope="module")
def moto_sns() -> Iterator[Any]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield boto3.client(
        "sns",
        endpoint_url=f"http://{host}:{port}",
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    server.stop()


def test_moto_delivers_matching_publishes_to_the_gateway_inside_publish(moto_sns: Any) -> None:
    # Given a source subscribed through the gateway to a moto topic, filtered on kind=sla_escalation
    topic_arn = moto_sns.create_topic(Name="escalations")["TopicArn"]
    seen: list[Any] = []
    runtime = _runtime(Escalate=lambda event, context: seen.append(event))
    source = SnsSource(_binding(topic_arn=topic_arn), runtime, moto_sns)
    gateway = Gateway(_settings(), runtime, sns_sources=[source])

    def publish(kind: str) -> None:
        moto_sns.publish(
            TopicArn=topic_arn,
            Subject="ShopDesk SLA escalation",
            Message=NOTIFICATION["Message"],
            MessageAttributes={"kind": {"DataType": "String", "StringValue": kind}},
        )

    async def scenario() -> None:
        async with TestServer(gateway.app()) as server:
            endpoint = str(server.make_url(gateway.sns_path(source)))
            subscription_arn = await asyncio.to_thread(source.subscribe, endpoint)
            # When a matching and a filtered-out message are published (Publish waits for the POST)
            await asyncio.to_thread(publish, "sla_escalation")
            await asyncio.to_thread(publish, "something_else")
            await gateway.background_idle()
            # Then the function ran once, with the subscription's ARN and the published message
            (event,) = seen
            (record,) = event["Records"]
            assert record["EventSubscriptionArn"] == subscription_arn
            assert record["Sns"]["TopicArn"] == topic_arn
            assert record["Sns"]["Message"] == NOTIFICATION["Message"]
            assert record["Sns"]["Subject"] == "ShopDesk SLA escalation"
            await asyncio.to_thread(source.unsubscribe)

    try:
        asyncio.run(scenario())
    finally:
        runtime.shutdown()
