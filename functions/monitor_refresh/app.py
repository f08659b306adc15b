"""Every 3 minutes: the supervisor's figures from the current counters, pushed live, and threshold alerts."""

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
    snapshot = container.monitor.refresh(send_alerts=True)
    alerts = len(snapshot["shop"]["alerts"]) + sum(len(g["alerts"]) for g in snapshot["groups"])
    metrics.add_metric(name="MonitorAlerts", unit=MetricUnit.Count, value=alerts)
    return {"as_of": snapshot["as_of"], "alerts": alerts}
