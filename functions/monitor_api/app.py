"""The supervisor's monitoring: the figures now and on demand, today's trend, alert settings, dispatch, audit."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field
from shopdesk.auth import Principal
from shopdesk.container import Container
from shopdesk.http import create_app, page_size, principal_of

logger = Logger()
metrics = Metrics()
container = Container()
app = create_app(lambda: container, visitors=False)

Limit = Annotated[int | None, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=2048)]
Threshold = Annotated[float, Field(ge=0, allow_inf_nan=False)] | None
Recipients = list[Annotated[str, Field(min_length=1, max_length=120)]]


class LevelSettings(BaseModel):
    enabled: bool = False
    thresholds: dict[str, Threshold] = Field(default_factory=dict)
    recipients: Recipients = Field(default_factory=list)


class GroupLevelSettings(LevelSettings):
    agent_thresholds: dict[str, Threshold] = Field(default_factory=dict)


class AlertSettingsBody(BaseModel):
    shop: LevelSettings = Field(default_factory=LevelSettings)
    groups: dict[str, GroupLevelSettings] = Field(default_factory=dict)


class Dispatch(BaseModel):
    action: Literal["suspend", "resume", "change_group"]
    agent_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(min_length=1, max_length=50)
    group_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(default_factory=list, max_length=20)


def supervisor() -> Principal:
    principal = principal_of(app)
    principal.require("leader", "admin")
    return principal


@app.get("/monitor/snapshot", summary="The figures as of the last refresh", tags=["monitor"])
def snapshot() -> dict[str, Any]:
    supervisor()
    return container.monitor.latest() or container.monitor.refresh(send_alerts=False)


@app.post("/monitor/refresh", summary="Compute the figures now (alerts stay on the 3-minute round)", tags=["monitor"])
def refresh() -> dict[str, Any]:
    supervisor()
    return container.monitor.refresh(send_alerts=False)


@app.get("/monitor/trend", summary="Today's (or a day's) figures, one point per refresh", tags=["monitor"])
def trend(day: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")] = None) -> dict[str, Any]:
    supervisor()
    day = day or container.metrics.today()
    return {"day": day, "points": container.monitor.trend(day)}


@app.get("/monitor/alerts", summary="Threshold-alert settings, per level", tags=["monitor"])
def get_alerts() -> dict[str, Any]:
    supervisor()
    return container.alert_settings.view()


@app.put("/monitor/alerts", summary="Set thresholds, switches and recipients; checked whole", tags=["monitor"])
def put_alerts(body: AlertSettingsBody) -> dict[str, Any]:
    principal = supervisor()
    known = {g.group_id for g in container.groups.all()}
    settings = container.alert_settings.update(
        body.shop.model_dump(), {g: level.model_dump() for g, level in body.groups.items()}, known
    )
    container.audit.record(principal, "alerts.update", "alerts", {"version": int(settings.version)})
    return container.alert_settings.view(settings)


@app.post("/monitor/dispatch", summary="Suspend, resume or regroup agents, one or a batch", tags=["monitor"])
def dispatch(body: Dispatch) -> dict[str, Any]:
    results = container.dispatcher.dispatch(supervisor(), body.action, body.agent_ids, body.group_ids)
    return {"results": results, "snapshot": container.monitor.refresh(send_alerts=False)}


@app.get("/monitor/audit", summary="Who did what, when: newest first", tags=["monitor"])
def audit(
    limit: Annotated[int | None, Query(ge=1, le=200)] = None,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> dict[str, Any]:
    from shopdesk.audit import audit_view

    supervisor()
    page = container.audit.page(page_size(limit), cursor)
    return {"items": [audit_view(item) for item in page.items], "next_cursor": page.next_cursor}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
