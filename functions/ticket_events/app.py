"""SLA escalations published by the state machine: the timeline records them and the people
concerned (assignee, group leaders, admins) see them live in their workspace."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import SNSEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from shopdesk.container import Container

logger = Logger()
metrics = Metrics()
container = Container()


@logger.inject_lambda_context
@metrics.log_metrics
@event_source(data_class=SNSEvent)
def lambda_handler(event: SNSEvent, context: LambdaContext) -> dict[str, Any]:
    handled = 0
    for record in event.records:
        attributes = record.sns.message_attributes
        if attributes.get("kind") is None or attributes["kind"].value != "sla_escalation":
            continue
        step = json.loads(record.sns.message)
        if container.tickets.escalated(attributes["ticket_id"].value, step) is not None:
            handled += 1
    metrics.add_metric(name="SlaEscalations", unit=MetricUnit.Count, value=handled)
    return {"handled": handled}
