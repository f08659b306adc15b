"""First-response timers: SQS messages delayed by the store's threshold."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from shopdesk.container import Container

logger = Logger()
metrics = Metrics()
container = Container()
processor = BatchProcessor(event_type=EventType.SQS)


def fire(record: SQSRecord) -> None:
    timer = json.loads(record.body)
    if container.reminders.fire(timer["session_id"], timer["awaiting_since"]):
        metrics.add_metric(name="SlowFirstResponses", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=fire, processor=processor, context=context)
