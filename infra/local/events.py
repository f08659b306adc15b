"""Drives the functions' Schedule, SQS and SNS events, which neither moto nor a Docker-less stack fires.

Schedules run from an injectable clock and sleep, so tests never wait. SQS sources poll their
queue like Lambda's event source mapping: delete what succeeded, leave the rest to come back after
the visibility timeout (and reach the dead-letter queue after maxReceiveCount), as on AWS. SNS
sources subscribe an HTTP endpoint of the local gateway to their topic, with the event's
FilterPolicy, and turn each notification posted there into the event Lambda's SNS trigger sends.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from infra.local.handlers import LambdaRuntime
from infra.local.provision import Resources
from infra.local.template import RateExpression, ScheduleSpec, SnsSourceSpec, SqsSourceSpec

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

# ReceiveMessage returns at most 10 messages, whatever the source's BatchSize.
SQS_RECEIVE_LIMIT = 10


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- schedules


@dataclass(frozen=True)
class ScheduleBinding:
    spec: ScheduleSpec
    rule_arn: str


def schedule_bindings(resources: Resources) -> list[ScheduleBinding]:
    """Each Schedule event with the ARN of the EventBridge rule SAM would create for it."""
    bindings = []
    for spec in resources.template.schedules:
        name = resources.resolve(spec.name) if spec.name else f"{resources.function_name(spec.function)}-{spec.event}"
        partition = resources.params["AWS::Partition"]
        arn = f"arn:{partition}:events:{resources.region}:{resources.account_id}:rule/{name[:64]}"
        bindings.append(ScheduleBinding(spec, arn))
    return bindings


def scheduled_event(rule_arn: str, *, region: str, account_id: str, when: float) -> dict[str, Any]:
    """What EventBridge sends a function for a scheduled rule."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": _iso(when),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


class ScheduleRunner:
    """Fires each enabled schedule on time; ``scale`` shrinks rate() intervals for demos (0.1 = 10x)."""

    def __init__(
        self,
        bindings: Iterable[ScheduleBinding],
        runtime: LambdaRuntime,
        *,
        region: str,
        account_id: str,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
        scale: float = 1.0,
    ) -> None:
        self.bindings = list(bindings)
        self._runtime = runtime
        self._region = region
        self._account_id = account_id
        self._clock = clock
        self._sleep = sleep
        self._scale = scale

    def event(self, binding: ScheduleBinding, when: float) -> Any:
        # An Input replaces the whole event, as it does on the EventBridge target.
        if binding.spec.input is not None:
            return json.loads(binding.spec.input)
        return scheduled_event(binding.rule_arn, region=self._region, account_id=self._account_id, when=when)

    async def fire(self, function_id: str, event_name: str | None = None) -> Any:
        """Invoke one of ``function_id``'s schedules now (the first, unless ``event_name`` says which)."""
        for binding in self.bindings:
            if binding.spec.function == function_id and event_name in (None, binding.spec.event):
                return await self._runtime.invoke(function_id, self.event(binding, self._clock()))
        raise KeyError(f"{function_id} has no schedule{f' {event_name}' if event_name else ''}")

    def _next(self, binding: ScheduleBinding, after: float) -> float:
        expression = binding.spec.expression
        if isinstance(expression, RateExpression):
            return after + expression.seconds * self._scale
        return expression.next_after(after)

    async def run(self) -> None:
        """Fire every enabled schedule until cancelled."""
        await asyncio.gather(*(self._run_one(binding) for binding in self.bindings if binding.spec.enabled))

    async def _run_one(self, binding: ScheduleBinding) -> None:
        due = self._next(binding, self._clock())
        while True:
            delay = due - self._clock()
            if delay > 0:
                await self._sleep(delay)
            try:
                await self._runtime.invoke(binding.spec.function, self.event(binding, due))
            except Exception:
                log.exception("scheduled %s.%s failed", binding.spec.function, binding.spec.event)
            due = self._next(binding, due)
            if due <= self._clock():
                # A run outlasted the interval: skip the missed ticks instead of firing in a burst.
                due = self._next(binding, self._clock())


# --------------------------------------------------------------------------- SQS


@dataclass(frozen=True)
class SqsBinding:
    spec: SqsSourceSpec
    queue_url: str
    queue_arn: str


def sqs_bindings(resources: Resources) -> list[SqsBinding]:
    return [
        SqsBinding(spec, resources.refs[spec.queue], resources.attrs[(spec.queue, "Arn")])
        for spec in resources.template.sqs_sources
    ]


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    attribute: dict[str, Any] = {
        "stringListValues": value.get("StringListValues", []),
        "binaryListValues": [base64.b64encode(item).decode() for item in value.get("BinaryListValues", [])],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return attribute


def sqs_record(message: dict[str, Any], *, queue_arn: str, region: str) -> dict[str, Any]:
    """One ReceiveMessage message as a Lambda SQS event record."""
    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def failed_message_ids(response: Any, message_ids: list[str]) -> set[str]:
    """The records to keep, under ReportBatchItemFailures, following Lambda's documented rules.

    No response, or an empty ``batchItemFailures``, means all succeeded; a malformed response or
    an ``itemIdentifier`` that is empty or not in the batch fails the whole batch.
    """
    if response is None:
        return set()
    if not isinstance(response, dict):
        return set(message_ids)
    failures = response.get("batchItemFailures")
    if not failures:
        return set()
    if not isinstance(failures, list):
        return set(message_ids)
    failed: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in message_ids:
            return set(message_ids)
        failed.add(identifier)
    return failed


@dataclass(frozen=True)
class PollResult:
    function: str
    queue_arn: str
    received: int
    deleted: int
    kept: int
    error: str | None = None


class SqsPoller:
    """One SQS event source: receive a batch, invoke, delete what succeeded."""

    def __init__(self, binding: SqsBinding, runtime: LambdaRuntime, sqs_client: Any, region: str) -> None:
        self.binding = binding
        self._runtime = runtime
        self._sqs = sqs_client
        self._region = region
        # One batch at a time per source, so a drain waits for the batch in flight.
        self._lock = asyncio.Lock()

    async def poll_once(self, wait_seconds: int = 1) -> PollResult:
        async with self._lock:
            return await self._poll(wait_seconds)

    async def _poll(self, wait_seconds: int) -> PollResult:
        spec = self.binding.spec
        response = await asyncio.to_thread(
            self._sqs.receive_message,
            QueueUrl=self.binding.queue_url,
            MaxNumberOfMessages=min(spec.batch_size, SQS_RECEIVE_LIMIT),
            WaitTimeSeconds=wait_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return PollResult(spec.function, self.binding.queue_arn, 0, 0, 0)
        records = [sqs_record(message, queue_arn=self.binding.queue_arn, region=self._region) for message in messages]
        message_ids = [record["messageId"] for record in records]
        error = None
        try:
            result = await self._runtime.invoke(spec.function, {"Records": records})
            failed = failed_message_ids(result, message_ids) if spec.report_batch_item_failures else set()
        except Exception as exc:
            log.exception("%s failed on a batch of %d from its SQS source", spec.function, len(records))
            error = f"{type(exc).__name__}: {exc}"
            failed = set(message_ids)
        done = [record for record in records if record["messageId"] not in failed]
        deleted = await asyncio.to_thread(self._delete, done)
        return PollResult(spec.function, self.binding.queue_arn, len(records), deleted, len(failed), error)

    def _delete(self, records: list[dict[str, Any]]) -> int:
        deleted = 0
        for start in range(0, len(records), SQS_RECEIVE_LIMIT):
            chunk = records[start : start + SQS_RECEIVE_LIMIT]
            response = self._sqs.delete_message_batch(
                QueueUrl=self.binding.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": record["receiptHandle"]} for index, record in enumerate(chunk)
                ],
            )
            for failure in response.get("Failed", []):
                log.warning("could not delete an SQS message: %s", failure)
            deleted += len(response.get("Successful", []))
        return deleted

    async def run(self, retry_delay: float = 1.0, sleep: Sleep = asyncio.sleep) -> None:
        """Poll until cancelled; the 1 s long poll paces an idle queue."""
        while True:
            try:
                await self.poll_once()
            except Exception:
                log.exception("polling %s failed", self.binding.queue_url)
                await sleep(retry_delay)


# --------------------------------------------------------------------------- SNS


@dataclass(frozen=True)
class SnsBinding:
    spec: SnsSourceSpec
    topic_arn: str
    filter_policy: dict[str, Any] | None


def sns_bindings(resources: Resources) -> list[SnsBinding]:
    """Each SNS event with its topic's ARN (a topic's Ref) and its FilterPolicy resolved."""
    return [
        SnsBinding(
            spec,
            resources.refs[spec.topic],
            None if spec.filter_policy is None else resources.resolve(spec.filter_policy),
        )
        for spec in resources.template.sns_sources
    ]


def subscription_attributes(binding: SnsBinding) -> dict[str, str]:
    """The Subscribe attributes: the event's filter, and the JSON envelope that carries the attributes."""
    attributes = {"RawMessageDelivery": "false"}
    if binding.filter_policy is not None:
        attributes["FilterPolicy"] = json.dumps(binding.filter_policy)
    if binding.spec.filter_policy_scope is not None:
        attributes["FilterPolicyScope"] = binding.spec.filter_policy_scope
    return attributes


def sns_record(notification: dict[str, Any], *, subscription_arn: str) -> dict[str, Any]:
    """An SNS HTTP(S) notification as the record Lambda's SNS trigger sends.

    Lambda spells two keys differently from the HTTP body (``SigningCertUrl``, ``UnsubscribeUrl``),
    and always has ``Subject`` (null when there is none) and ``MessageAttributes`` (maybe empty).
    """
    return {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "Sns": {
            "Type": "Notification",
            "MessageId": notification["MessageId"],
            "TopicArn": notification["TopicArn"],
            "Subject": notification.get("Subject"),
            "Message": notification["Message"],
            "Timestamp": notification["Timestamp"],
            "SignatureVersion": notification.get("SignatureVersion", "1"),
            "Signature": notification.get("Signature", ""),
            "SigningCertUrl": notification.get("SigningCertURL", ""),
            "UnsubscribeUrl": notification.get("UnsubscribeURL", ""),
            "MessageAttributes": dict(notification.get("MessageAttributes") or {}),
        },
    }


def sns_event(notification: dict[str, Any], *, subscription_arn: str) -> dict[str, Any]:
    """Lambda invokes an SNS subscriber with one record per notification."""
    return {"Records": [sns_record(notification, subscription_arn=subscription_arn)]}


class SnsSource:
    """One SNS event: its topic subscription, and the invocations of the function it triggers.

    The notifications come in through the gateway (``POST /_local/sns/<Function>?event=<Event>``);
    the gateway answers at once and leaves ``deliver`` to run in the background, because moto posts
    from inside the Publish call, and the publisher may be moto's own Step Functions interpreter.
    """

    def __init__(self, binding: SnsBinding, runtime: LambdaRuntime, sns_client: Any) -> None:
        self.binding = binding
        self._runtime = runtime
        self._sns = sns_client
        self.subscription_arn: str | None = None
        self._warned_attributes = False

    @property
    def function(self) -> str:
        return self.binding.spec.function

    @property
    def event_name(self) -> str:
        return self.binding.spec.event

    def subscribe(self, endpoint: str) -> str:
        """Subscribe ``endpoint`` (http or https) to the topic; returns the subscription's ARN."""
        protocol = endpoint.partition(":")[0]
        response = self._sns.subscribe(
            TopicArn=self.binding.topic_arn,
            Protocol=protocol,
            Endpoint=endpoint,
            Attributes=subscription_attributes(self.binding),
            ReturnSubscriptionArn=True,
        )
        self.subscription_arn = str(response["SubscriptionArn"])
        return self.subscription_arn

    def unsubscribe(self) -> None:
        if self.subscription_arn is not None:
            self._sns.unsubscribe(SubscriptionArn=self.subscription_arn)
            self.subscription_arn = None

    async def confirm(self, confirmation: dict[str, Any]) -> None:
        """Answer a SubscriptionConfirmation (LocalStack and AWS send one; moto does not)."""
        try:
            response = await asyncio.to_thread(
                self._sns.confirm_subscription,
                TopicArn=confirmation.get("TopicArn", self.binding.topic_arn),
                Token=confirmation["Token"],
            )
            self.subscription_arn = str(response.get("SubscriptionArn") or self.subscription_arn)
        except Exception:
            log.exception("could not confirm %s.%s's subscription to its topic", self.function, self.event_name)

    async def deliver(self, notification: dict[str, Any], subscription_arn: str | None = None) -> Any:
        """Invoke the function with the notification as an SNS event; failures are logged, as Lambda's are."""
        arn = subscription_arn or self.subscription_arn or f"{self.binding.topic_arn}:local"
        attribute_filter = self.binding.filter_policy and self.binding.spec.filter_policy_scope != "MessageBody"
        if attribute_filter and "MessageAttributes" not in notification and not self._warned_attributes:
            self._warned_attributes = True
            log.warning(
                "%s.%s: a notification matched its FilterPolicy but came without MessageAttributes "
                "(moto leaves them out of HTTP deliveries)",
                self.function,
                self.event_name,
            )
        try:
            event = sns_event(notification, subscription_arn=arn)
            log.info("SNS %s -> %s", notification.get("MessageId"), self.function)
            return await self._runtime.invoke(self.function, event)
        except Exception:
            log.exception(
                "%s failed on SNS message %s from %s",
                self.function,
                notification.get("MessageId"),
                self.binding.topic_arn,
            )
            return None
