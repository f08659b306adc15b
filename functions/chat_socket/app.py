"""WebSocket routes of the live chat: connect, open a session, messages, typing, read receipts, ping."""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field
from shopdesk import keys
from shopdesk.auth import Principal
from shopdesk.clock import iso
from shopdesk.container import Container
from shopdesk.errors import NotParticipant
from shopdesk.sessions import Outgoing
from shopdesk.socket import SocketApp, SocketRequest

logger = Logger()
metrics = Metrics()
container = Container()
app = SocketApp(lambda: container)


class OpenSession(BaseModel):
    channel: Literal["web", "app", "mini_program"] = "web"
    page: str = Field(default="", max_length=2048)
    session_id: str | None = Field(default=None, max_length=64)


class BotRef(BaseModel):
    """The button a customer clicked in a bot turn: a first question, a suggestion, or "转人工"."""

    kind: Literal["first_question", "suggestion", "handover"]
    id: str = Field(default="", max_length=64)
    entry_id: str = Field(default="", max_length=64)


class SendMessage(BaseModel):
    session_id: str = Field(min_length=1, max_length=64)
    client_msg_id: str = Field(min_length=1, max_length=64)
    kind: Literal["text", "emoji", "image"] = "text"
    text: str = ""
    image_key: str | None = Field(default=None, max_length=512)
    ref: BotRef | None = None


class SessionSignal(BaseModel):
    session_id: str = Field(min_length=1, max_length=64)


class ReadReceipt(SessionSignal):
    seq: int = Field(ge=0)


@app.on("$connect")
def connect(event: dict[str, Any], principal: Principal) -> None:
    role = "visitor" if principal.is_visitor else "agent"
    container.connections.register(
        event["requestContext"]["connectionId"],
        keys.principal_key(role, principal.user_id),
        principal.role,
        principal.user_id,
        principal.name,
    )


@app.on("$disconnect")
def disconnect(event: dict[str, Any], principal: Principal) -> None:
    role = "visitor" if principal.is_visitor else "agent"
    container.connections.forget(event["requestContext"]["connectionId"], keys.principal_key(role, principal.user_id))


@app.route("openSession")
def open_session(request: SocketRequest) -> dict[str, Any]:
    if not request.principal.is_visitor:
        raise NotParticipant("Only visitors open conversations.")
    body = request.parse(OpenSession)
    session = container.chat.open(request.principal, body.channel, body.page, body.session_id)
    return {"type": "session", "session": container.chat.view(session)}


@app.route("sendMessage")
def send_message(request: SocketRequest) -> dict[str, Any]:
    body = request.parse(SendMessage)
    sent = container.chat.send(
        request.principal,
        Outgoing(
            body.session_id,
            body.client_msg_id,
            body.kind,
            body.text,
            body.image_key,
            body.ref.model_dump() if body.ref else None,
        ),
    )
    metrics.add_metric(name="MessagesStored", unit=MetricUnit.Count, value=0 if sent.duplicate else 1)
    return {
        "type": "ack",
        "session_id": body.session_id,
        "client_msg_id": body.client_msg_id,
        "seq": int(sent.message.seq),
        "duplicate": sent.duplicate,
    }


@app.route("typing")
def typing(request: SocketRequest) -> None:
    body = request.parse(SessionSignal)
    container.chat.signal(request.principal, body.session_id, {"type": "typing"})


@app.route("read")
def read(request: SocketRequest) -> None:
    body = request.parse(ReadReceipt)
    container.chat.signal(request.principal, body.session_id, {"type": "read", "seq": body.seq})


@app.route("ping")
def ping(request: SocketRequest) -> dict[str, Any]:
    return {"type": "pong", "at": iso(container.clock.now())}


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event)
