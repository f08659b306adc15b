"""Session reads shared by visitors and staff, ratings, image uploads, availability, offline messages."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field
from shopdesk.container import Container
from shopdesk.errors import Forbidden
from shopdesk.http import create_app, page_size, principal_of
from shopdesk.views import session_view

logger = Logger()
metrics = Metrics()
container = Container()
app = create_app(lambda: container)

SessionId = Annotated[str, Path(min_length=1, max_length=64)]


class RatingRequest(BaseModel):
    stars: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=500)
    solved: bool


class UploadRequest(BaseModel):
    session_id: str = Field(min_length=1, max_length=64)
    content_type: str = Field(min_length=1, max_length=100)
    size: int = Field(ge=0)


class OfflineMessage(BaseModel):
    text: str = Field(min_length=1)
    contact: str = Field(default="", max_length=100)
    channel: Literal["web", "app", "mini_program"] = "web"
    page: str = Field(default="", max_length=2048)


def visitor() -> Any:
    principal = principal_of(app)
    if not principal.is_visitor:
        raise Forbidden("Only visitors may call this.")
    return principal


@app.get("/sessions/<session_id>", summary="One session", tags=["sessions"])
def get_session(session_id: SessionId) -> dict[str, Any]:
    return container.chat.view(container.chat.readable(principal_of(app), session_id))


@app.get("/sessions/<session_id>/messages", summary="History since a sequence number", tags=["sessions"])
def messages(
    session_id: SessionId,
    since: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int | None, Query(ge=1, le=200)] = None,
    cursor: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    page = container.chat.history(principal_of(app), session_id, since, page_size(limit), cursor)
    return {"items": [container.chat.message_view(m) for m in page.items], "next_cursor": page.next_cursor}


@app.post("/sessions/<session_id>/rating", summary="Rate an ended conversation", tags=["sessions"])
def rate(session_id: SessionId, body: Annotated[RatingRequest, Body()]) -> dict[str, Any]:
    session = container.chat.rate(visitor(), session_id, body.stars, body.comment, body.solved)
    return session_view(container.chat.session(session.session_id))


@app.post("/visitor/sessions/<session_id>/end", summary="Close a chat the bot served alone", tags=["sessions"])
def finish(session_id: SessionId) -> dict[str, Any]:
    return session_view(container.chat.finish_with_bot(visitor(), session_id))


@app.post("/uploads", summary="A presigned POST for an image", tags=["sessions"])
def upload(body: Annotated[UploadRequest, Body()]) -> dict[str, Any]:
    principal = principal_of(app)
    session = container.chat.readable(principal, body.session_id)
    return container.uploads.presign(session.session_id, body.content_type, body.size)


@app.get("/visitor/sessions", summary="The caller's conversations", tags=["visitor"])
def my_sessions(
    limit: Annotated[int | None, Query(ge=1, le=200)] = None, cursor: Annotated[str | None, Query()] = None
) -> dict[str, Any]:
    page = container.sessions.of_visitor(visitor().user_id, page_size(limit), cursor)
    return {"items": [session_view(s) for s in page.items], "next_cursor": page.next_cursor}


@app.get("/visitor/availability", summary="Whether someone can answer now", tags=["visitor"])
def availability() -> dict[str, Any]:
    visitor()
    return {
        "agents_online": int(container.store_repo.presence().online_agents) > 0,
        "business_hours": container.store.is_open(),
        # The bot answers when the store set it to, even with nobody online: no offline form then.
        "bot": container.bot_mode.takes_new_chats() is not None,
    }


@app.post("/offline-messages", summary="Leave a message for when an agent is back", tags=["visitor"])
def offline_message(body: Annotated[OfflineMessage, Body()]) -> tuple[dict[str, Any], int]:
    session = container.chat.leave_offline_message(visitor(), body.text, body.contact, body.channel, body.page)
    return session_view(session), 201


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
