"""Tickets: lists with filters, detail and timeline, lifecycle, assignment, transfer, notes and replies.

Staff and customers share the routes; the service decides what each may see and do.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field
from shopdesk.auth import Principal
from shopdesk.container import Container
from shopdesk.errors import Forbidden
from shopdesk.http import create_app, page_size, principal_of
from shopdesk.ticket_rules import MAX_DESCRIPTION_CHARS
from shopdesk.tickets import Filters, NewTicket

logger = Logger()
metrics = Metrics()
container = Container()
app = create_app(lambda: container)

TicketId = Annotated[str, Path(min_length=1, max_length=64)]
TicketType = Literal["complaint", "suggestion", "after_sales", "logistics", "technical", "other"]
Priority = Literal["low", "normal", "high", "urgent"]
Status = Literal["new", "processing", "pending", "transferred", "resolved", "closed"]
Description = Annotated[str, Field(min_length=1, max_length=MAX_DESCRIPTION_CHARS)]
Limit = Annotated[int | None, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=2048)]
Instant = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}(T[0-9:.]+Z)?$")]


class StaffTicket(BaseModel):
    type: TicketType
    priority: Priority = "normal"
    description: Description
    order_number: str = Field(default="", max_length=64)
    group_id: str | None = Field(default=None, max_length=64)
    assignee_id: str | None = Field(default=None, max_length=64)
    session_id: str | None = Field(default=None, max_length=64)
    contact: str = Field(default="", max_length=100)
    attachment_keys: list[Annotated[str, Field(max_length=300)]] = Field(default_factory=list, max_length=10)


class CustomerTicket(BaseModel):
    type: TicketType = "other"
    description: Description
    order_number: str = Field(default="", max_length=64)
    contact: str = Field(default="", max_length=100)
    session_id: str | None = Field(default=None, max_length=64)


class Versioned(BaseModel):
    version: int = Field(ge=1)


class Edit(Versioned):
    priority: Priority | None = None
    type: TicketType | None = None
    description: Description | None = None
    order_number: str | None = Field(default=None, max_length=64)


class StatusChange(Versioned):
    status: Status
    reason: str = Field(default="", max_length=500)


class Assignment(Versioned):
    agent_id: str | None = Field(default=None, max_length=64)


class Transfer(Versioned):
    group_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=500)


class Note(BaseModel):
    text: Description
    public: bool = False
    attachment_keys: list[Annotated[str, Field(max_length=300)]] = Field(default_factory=list, max_length=10)


class AttachmentRequest(BaseModel):
    content_type: str = Field(min_length=1, max_length=100)
    size: int = Field(ge=0)


def staff() -> Principal:
    principal = principal_of(app)
    principal.require("agent", "leader", "admin")
    return principal


def customer() -> Principal:
    principal = principal_of(app)
    if not principal.is_visitor:
        raise Forbidden("Only customers may call this.")
    return principal


def shown(ticket: Any, principal: Principal) -> dict[str, Any]:
    return container.tickets.view(ticket, public=principal.is_visitor)


@app.get("/tickets", summary="Tickets, filtered; one index per request", tags=["tickets"])
def list_tickets(
    status: Annotated[Status | None, Query()] = None,
    priority: Annotated[Priority | None, Query()] = None,
    type: Annotated[TicketType | None, Query()] = None,
    group_id: Annotated[str | None, Query(max_length=64)] = None,
    assignee: Annotated[str | None, Query(max_length=64)] = None,
    sla: Annotated[Literal["on_track", "at_risk", "breached"] | None, Query()] = None,
    created_from: Instant = None,
    created_to: Instant = None,
    archived_month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> dict[str, Any]:
    principal = staff()
    filters = Filters(status, priority, type, group_id, assignee, sla, created_from, created_to, archived_month)
    page = container.tickets.search(principal, filters, page_size(limit), cursor)
    return {"items": [container.tickets.view(t) for t in page.items], "next_cursor": page.next_cursor}


@app.post("/tickets", summary="Create a ticket, optionally from a chat or an offline message", tags=["tickets"])
def create(body: Annotated[StaffTicket, Body()]) -> tuple[dict[str, Any], int]:
    new = NewTicket(
        type=body.type,
        priority=body.priority,
        description=body.description,
        order_number=body.order_number,
        group_id=body.group_id,
        assignee_id=body.assignee_id,
        session_id=body.session_id,
        contact=body.contact,
        attachment_keys=tuple(body.attachment_keys),
    )
    return container.tickets.view(container.tickets.create(staff(), new)), 201


@app.get("/tickets/<ticket_id>", summary="One ticket (customers see the public part)", tags=["tickets"])
def get_ticket(ticket_id: TicketId) -> dict[str, Any]:
    principal = principal_of(app)
    return shown(container.tickets.readable(principal, ticket_id), principal)


@app.get("/tickets/<ticket_id>/timeline", summary="Who did what, and when; oldest first", tags=["tickets"])
def timeline(ticket_id: TicketId, limit: Limit = None, cursor: Cursor = None) -> dict[str, Any]:
    principal = principal_of(app)
    ticket = container.tickets.readable(principal, ticket_id)
    page = container.tickets.timeline(principal, ticket, page_size(limit), cursor)
    return {"items": [container.tickets.event_view(e) for e in page.items], "next_cursor": page.next_cursor}


@app.patch("/tickets/<ticket_id>", summary="Edit priority, type, description or order number", tags=["tickets"])
def edit(ticket_id: TicketId, body: Annotated[Edit, Body()]) -> dict[str, Any]:
    ticket = container.tickets.update(
        staff(), ticket_id, body.version, body.priority, body.type, body.description, body.order_number
    )
    return container.tickets.view(ticket)


@app.post("/tickets/<ticket_id>/status", summary="Move along the lifecycle", tags=["tickets"])
def change_status(ticket_id: TicketId, body: Annotated[StatusChange, Body()]) -> dict[str, Any]:
    ticket = container.tickets.set_status(staff(), ticket_id, body.version, body.status, body.reason)
    return container.tickets.view(ticket)


@app.post("/tickets/<ticket_id>/assign", summary="Pull from the queue, or assign an agent", tags=["tickets"])
def assign(ticket_id: TicketId, body: Annotated[Assignment, Body()]) -> dict[str, Any]:
    return container.tickets.view(container.tickets.assign(staff(), ticket_id, body.version, body.agent_id))


@app.post("/tickets/<ticket_id>/transfer", summary="Move to another group, with a reason", tags=["tickets"])
def transfer(ticket_id: TicketId, body: Annotated[Transfer, Body()]) -> dict[str, Any]:
    ticket = container.tickets.transfer(staff(), ticket_id, body.version, body.group_id, body.reason)
    return container.tickets.view(ticket)


@app.post("/tickets/<ticket_id>/notes", summary="An internal note or a public reply", tags=["tickets"])
def add_note(ticket_id: TicketId, body: Annotated[Note, Body()]) -> tuple[dict[str, Any], int]:
    principal = principal_of(app)
    event = container.tickets.add_note(principal, ticket_id, body.text, body.public, tuple(body.attachment_keys))
    return container.tickets.event_view(event), 201


@app.post("/tickets/<ticket_id>/attachments", summary="A presigned POST for an attachment", tags=["tickets"])
def attachment(ticket_id: TicketId, body: Annotated[AttachmentRequest, Body()]) -> dict[str, Any]:
    return container.tickets.presign(principal_of(app), ticket_id, body.content_type, body.size)


@app.get(
    "/tickets/<ticket_id>/chats/<session_id>/messages", summary="The transcript of a linked chat", tags=["tickets"]
)
def linked_chat(
    ticket_id: TicketId,
    session_id: Annotated[str, Path(min_length=1, max_length=64)],
    since: Annotated[int, Query(ge=0)] = 0,
    limit: Limit = None,
    cursor: Cursor = None,
) -> dict[str, Any]:
    container.tickets.linked_session(staff(), ticket_id, session_id)
    page = container.chat.transcript(session_id, since, page_size(limit), cursor)
    return {"items": [container.chat.message_view(m) for m in page.items], "next_cursor": page.next_cursor}


@app.get("/visitor/tickets", summary="The caller's tickets", tags=["visitor"])
def my_tickets(limit: Limit = None, cursor: Cursor = None) -> dict[str, Any]:
    page = container.tickets.of_customer(customer().user_id, page_size(limit), cursor)
    return {"items": [container.tickets.view(t, public=True) for t in page.items], "next_cursor": page.next_cursor}


@app.post("/visitor/tickets", summary="A customer opens a ticket from the widget", tags=["visitor"])
def open_ticket(body: Annotated[CustomerTicket, Body()]) -> tuple[dict[str, Any], int]:
    new = NewTicket(
        type=body.type,
        priority="normal",
        description=body.description,
        order_number=body.order_number,
        session_id=body.session_id,
        contact=body.contact,
    )
    return container.tickets.view(container.tickets.create(customer(), new), public=True), 201


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
