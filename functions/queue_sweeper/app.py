"""Every minute: hands queued sessions to agents with free capacity, if an event-driven drain missed them."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from shopdesk.container import Container

logger = Logger()
metrics = Metrics()
container = Container()


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    assigned = container.assigner.sweep()
    metrics.add_metric(name="SweptAssignments", unit=MetricUnit.Count, value=assigned)
    return {"assigned": assigned}
