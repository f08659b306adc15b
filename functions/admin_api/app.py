"""Store administration: staff accounts, skill groups, store-wide quick replies, SLA settings."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field
from shopdesk.container import Container
from shopdesk.http import create_app, page_size, principal_of
from shopdesk.views import agent_view

logger = Logger()
metrics = Metrics()
container = Container()
app = create_app(lambda: container, visitors=False)

Identifier = Annotated[str, Field(pattern=r"^[a-z0-9_-]{1,32}$")]
Keyword = Annotated[str, Field(min_length=1, max_length=20)]


class NewAgent(BaseModel):
    username: str = Field(pattern=r"^[A-Za-z0-9_.@-]{3,64}$")
    name: str = Field(min_length=1, max_length=40)
    password: str = Field(min_length=10, max_length=128)
    role: Literal["agent", "leader", "admin"] = "agent"
    group_ids: list[Identifier] = Field(default_factory=list, max_length=20)
    capacity: int = Field(default=5, ge=1, le=50)
    level: int = Field(default=1, ge=1, le=10)


class AgentChange(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=40)
    group_ids: list[Identifier] | None = Field(default=None, max_length=20)
    capacity: int | None = Field(default=None, ge=1, le=50)
    level: int | None = Field(default=None, ge=1, le=10)
    suspended: bool | None = None


class GroupDefinition(BaseModel):
    name: str = Field(min_length=1, max_length=40)
    keywords: list[Keyword] = Field(default_factory=list, max_length=200)
    strategy: Literal["least_busy", "round_robin", "priority"] = "least_busy"
    channels: list[Literal["web", "app", "mini_program"]] = Field(default_factory=list)
    is_default: bool = False


class StoreQuickReply(BaseModel):
    title: str = Field(min_length=1, max_length=60)
    text: str = Field(min_length=1, max_length=1000)
    keywords: list[Keyword] = Field(default_factory=list, max_length=20)


Minutes = Annotated[float, Field(gt=0, le=60 * 24 * 60)]
ClockTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")]


Weekday = Literal["0", "1", "2", "3", "4", "5", "6"]


class Policy(BaseModel):
    first_response_minutes: Minutes
    resolution_minutes: Minutes
    business_hours: bool = False


class Rung(BaseModel):
    level: int = Field(ge=1, le=5)
    after_minutes: Annotated[float, Field(ge=0, le=60 * 24 * 30)]
    notify: Literal["leader", "admin"]
    raise_priority: bool = False


class SlaSettingsBody(BaseModel):
    timezone: str = Field(default="Asia/Shanghai", min_length=1, max_length=64)
    weekly: dict[
        Literal["0", "1", "2", "3", "4", "5", "6"], Annotated[list[ClockTime], Field(min_length=2, max_length=2)]
    ]
    holidays: list[Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]] = Field(default_factory=list, max_length=100)
    policies: dict[Literal["low", "normal", "high", "urgent"], Policy]
    ladder: list[Rung] = Field(min_length=1, max_length=5)
    at_risk_minutes: int = Field(default=30, ge=1, le=24 * 60)
    retention_days: int = Field(default=90, ge=1, le=3650)


@app.get("/admin/sla", summary="SLA targets, business calendar and escalation ladder", tags=["admin"])
def get_sla() -> dict[str, Any]:
    principal_of(app).require("admin", "leader")
    return container.sla_policies.current()


@app.put("/admin/sla", summary="Set SLA targets, business calendar and escalation ladder", tags=["admin"])
def put_sla(body: Annotated[SlaSettingsBody, Body()]) -> dict[str, Any]:
    principal_of(app).require("admin")
    return container.sla_policies.update(
        timezone=body.timezone,
        weekly={day: list(window) for day, window in body.weekly.items()},
        holidays=body.holidays,
        policies={priority: policy.model_dump() for priority, policy in body.policies.items()},
        ladder=[rung.model_dump() for rung in body.ladder],
        at_risk_minutes=body.at_risk_minutes,
        retention_days=body.retention_days,
    )


@app.get("/admin/agents", summary="All staff, paginated", tags=["admin"])
def list_agents(
    limit: Annotated[int | None, Query(ge=1, le=200)] = None, cursor: Annotated[str | None, Query()] = None
) -> dict[str, Any]:
    principal_of(app).require("admin")
    page = container.agents.page(page_size(limit), cursor)
    return {"items": [agent_view(a) for a in page.items], "next_cursor": page.next_cursor}


@app.post("/admin/agents", summary="Create a staff account", tags=["admin"])
def create_agent(body: Annotated[NewAgent, Body()]) -> tuple[dict[str, Any], int]:
    principal_of(app).require("admin")
    agent = container.staff.create(
        body.username, body.name, body.password, body.role, body.group_ids, body.capacity, body.level
    )
    return agent_view(agent), 201


@app.patch("/admin/agents/<agent_id>", summary="Change groups, capacity, level or suspension", tags=["admin"])
def update_agent(
    agent_id: Annotated[str, Path(min_length=1, max_length=64)], body: Annotated[AgentChange, Body()]
) -> dict[str, Any]:
    principal_of(app).require("admin")
    agent = container.staff.update(agent_id, body.name, body.group_ids, body.capacity, body.level, body.suspended)
    return agent_view(agent)


@app.put("/admin/groups/<group_id>", summary="Create or change a skill group", tags=["admin"])
def put_group(
    group_id: Annotated[str, Path(pattern=r"^[a-z0-9_-]{1,32}$")], body: Annotated[GroupDefinition, Body()]
) -> dict[str, Any]:
    principal_of(app).require("admin")
    group = container.staff.put_group(group_id, body.name, body.keywords, body.strategy, body.channels, body.is_default)
    return {
        "group_id": group.group_id,
        "name": group.name,
        "keywords": list(group.keywords or []),
        "strategy": group.strategy,
    }


@app.post("/admin/quick-replies", summary="Add a store-wide quick reply", tags=["admin"])
def add_store_reply(body: Annotated[StoreQuickReply, Body()]) -> tuple[dict[str, Any], int]:
    principal_of(app).require("admin", "leader")
    reply = container.quick_replies.add(None, body.title, body.text, body.keywords)
    return {"id": reply.reply_id, "title": reply.title, "text": reply.text, "scope": reply.scope}, 201


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
