"""The agent workspace's REST API: presence, sessions, queue, quick replies, accept, transfer, end."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field
from shopdesk import keys
from shopdesk.container import Container
from shopdesk.http import create_app, page_size, principal_of
from shopdesk.views import agent_view, session_view

logger = Logger()
metrics = Metrics()
container = Container()
app = create_app(lambda: container, visitors=False)

SessionId = Annotated[str, Path(min_length=1, max_length=64)]


class StatusChange(BaseModel):
    status: Literal["online", "away", "offline"]


class NewQuickReply(BaseModel):
    title: str = Field(min_length=1, max_length=60)
    text: str = Field(min_length=1, max_length=1000)
    keywords: list[Annotated[str, Field(max_length=20)]] = Field(default_factory=list, max_length=20)


class Transfer(BaseModel):
    reason: str = Field(min_length=1, max_length=500)
    to_agent_id: str | None = Field(default=None, max_length=64)
    to_group_id: str | None = Field(default=None, max_length=64)


def staff() -> Any:
    principal = principal_of(app)
    principal.require("agent", "leader", "admin")
    return principal


@app.get("/me", summary="The caller's profile", tags=["agent"])
def me() -> dict[str, Any]:
    principal = staff()
    return {**agent_view(container.staff.require(principal.user_id)), "roles": list(principal.roles)}


@app.get("/groups", summary="Skill groups", tags=["agent"])
def groups() -> dict[str, Any]:
    staff()
    return {
        "items": [
            {
                "group_id": g.group_id,
                "name": g.name,
                "strategy": g.strategy,
                "keywords": list(g.keywords or []),
            }
            for g in container.groups.all()
        ]
    }


@app.get("/agents", summary="Agents with their status and load", tags=["agent"])
def agents(
    limit: Annotated[int | None, Query(ge=1, le=200)] = None, cursor: Annotated[str | None, Query()] = None
) -> dict[str, Any]:
    staff()
    page = container.agents.page(page_size(limit), cursor)
    return {"items": [agent_view(a) for a in page.items], "next_cursor": page.next_cursor}


@app.put("/agent/status", summary="Set the caller's presence", tags=["agent"])
def set_status(body: Annotated[StatusChange, Body()]) -> dict[str, Any]:
    principal = staff()
    return agent_view(container.staff.set_status(principal.user_id, body.status))


@app.get("/agent/sessions", summary="The caller's sessions", tags=["agent"])
def my_sessions(
    status: Annotated[Literal["active", "ended"], Query()] = "active",
    limit: Annotated[int | None, Query(ge=1, le=200)] = None,
    cursor: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    principal = staff()
    page = container.sessions.owned(keys.agent_sessions_gsi(principal.user_id, status), page_size(limit), cursor)
    return {"items": [session_view(s) for s in page.items], "next_cursor": page.next_cursor}


@app.get("/agent/queue", summary="Queued sessions and offline messages in the caller's groups", tags=["agent"])
def queue(limit: Annotated[int | None, Query(ge=1, le=200)] = None) -> dict[str, Any]:
    principal = staff()
    agent = container.staff.require(principal.user_id)
    items: list[dict[str, Any]] = []
    for group_id in agent.group_ids or []:
        for owner in (keys.queue_gsi(group_id), keys.offline_gsi(group_id)):
            page = container.sessions.owned(owner, page_size(limit), None, newest_first=False)
            items += [
                session_view(s, position if s.status == "queued" else None) for position, s in enumerate(page.items, 1)
            ]
    items.sort(key=lambda s: s["queued_at"] or s["created_at"])
    return {"items": items}


@app.get("/agent/quick-replies", summary="Quick replies ranked for a customer's words", tags=["agent"])
def quick_replies(q: Annotated[str, Query(max_length=4000)] = "") -> dict[str, Any]:
    principal = staff()
    replies = container.quick_replies.suggest(principal.user_id, q)
    return {
        "items": [
            {
                "id": r.reply_id,
                "title": r.title,
                "text": r.text,
                "keywords": list(r.keywords or []),
                "scope": r.scope,
            }
            for r in replies
        ]
    }


@app.post("/agent/quick-replies", summary="Add a personal quick reply", tags=["agent"])
def add_quick_reply(body: Annotated[NewQuickReply, Body()]) -> tuple[dict[str, Any], int]:
    principal = staff()
    reply = container.quick_replies.add(principal.user_id, body.title, body.text, body.keywords)
    return {"id": reply.reply_id, "title": reply.title, "text": reply.text, "scope": reply.scope}, 201


@app.post("/sessions/<session_id>/accept", summary="Take a queued session", tags=["sessions"])
def accept(session_id: SessionId) -> dict[str, Any]:
    return session_view(container.chat.accept(staff(), session_id))


@app.post("/sessions/<session_id>/transfer", summary="Transfer to an agent or a group", tags=["sessions"])
def transfer(session_id: SessionId, body: Annotated[Transfer, Body()]) -> dict[str, Any]:
    session = container.chat.transfer(staff(), session_id, body.reason, body.to_agent_id, body.to_group_id)
    return container.chat.view(session)


@app.post("/sessions/<session_id>/end", summary="End the chat and invite a rating", tags=["sessions"])
def end(session_id: SessionId) -> dict[str, Any]:
    return session_view(container.chat.end(staff(), session_id))


@app.get("/visitors/<visitor_id>/sessions", summary="A visitor's past sessions", tags=["sessions"])
def visitor_sessions(
    visitor_id: Annotated[str, Path(min_length=1, max_length=64)],
    limit: Annotated[int | None, Query(ge=1, le=200)] = None,
    cursor: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    staff()
    page = container.sessions.of_visitor(visitor_id, page_size(limit), cursor)
    return {"items": [session_view(s) for s in page.items], "next_cursor": page.next_cursor}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
