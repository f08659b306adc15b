"""Daily: resolved and closed tickets past the store's retention leave the live lists (定期清理已解决工单)."""

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
    archived = container.tickets.archive_resolved()
    metrics.add_metric(name="ArchivedTickets", unit=MetricUnit.Count, value=archived)
    return {"archived": archived}
