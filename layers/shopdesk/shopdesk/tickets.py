"""Tickets: creation from every source, the status lifecycle, assignment, transfer, notes and replies,
the SLA clocks behind them, and archiving.

Every change is one conditional write on the ticket's `version` (the loser of a race gets 409 and
nothing is written) in the same transaction as its timeline event. A change that moves the due
times bumps `sla_version` and starts one escalation execution named after it.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger
from pynamodb.exceptions import PutError

from shopdesk import keys, sla
from shopdesk.auth import Principal, new_id
from shopdesk.clock import Clock, iso, parse_iso
from shopdesk.config import Settings
from shopdesk.db import TransactionFailed, transaction
from shopdesk.directory import GroupDirectory
from shopdesk.errors import (
    NotFound,
    NotParticipant,
    NotYourTicket,
    ValidationFailed,
    VersionConflict,
)
from shopdesk.hours import DEFAULT_WEEKLY
from shopdesk.models import SessionModel, TicketEventModel, TicketModel
from shopdesk.notify import Connections
from shopdesk.repositories import AgentRepository, Page, SessionRepository, TicketQuery, TicketRepository
from shopdesk.store import StoreSettings, plain
from shopdesk.ticket_rules import (
    CLOCK_STOPPED,
    DONE,
    MAX_DESCRIPTION_CHARS,
    PRIORITIES,
    STATUSES,
    TYPES,
    Listed,
    allowed_next,
    check_transition,
    index_keys,
    is_reopening,
    priority_list,
    queue_sort_key,
)
from shopdesk.uploads import Uploads

logger = Logger(child=True)

LINKED_SESSIONS = 10
MAX_REPLY_ATTEMPTS = 3
SLA_LIST = "TICKETS#SLA"
SYSTEM = Principal(role="system", user_id="system", name="系统")


@dataclass(frozen=True)
class NewTicket:
    type: str
    priority: str
    description: str
    order_number: str = ""
    group_id: str | None = None
    assignee_id: str | None = None
    session_id: str | None = None
    contact: str = ""
    attachment_keys: Sequence[str] = ()


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    priority: str | None = None
    type: str | None = None
    group_id: str | None = None
    assignee: str | None = None  # an agent id, or "none" for the pool
    sla: str | None = None
    created_from: str | None = None
    created_to: str | None = None
    archived_month: str | None = None


@dataclass
class Change:
    """What one write does to a ticket: attributes, events, and whether the clocks move."""

    values: dict[str, Any] = field(default_factory=dict)
    events: list[TicketEventModel] = field(default_factory=list)
    replan: bool = False


def _clock_of(stored: dict[str, Any]) -> sla.Clock:
    running = stored.get("running_since")
    return sla.Clock(
        timedelta(seconds=float(stored["target_s"])),
        timedelta(seconds=float(stored.get("used_s", 0))),
        parse_iso(running) if running else None,
    )


def _stored(clock: sla.Clock) -> dict[str, Any]:
    return {
        "target_s": clock.target.total_seconds(),
        "used_s": clock.used.total_seconds(),
        "running_since": iso(clock.running_since) if clock.running_since else None,
    }


class TicketService:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        store: StoreSettings,
        tickets: TicketRepository,
        sessions: SessionRepository,
        agents: AgentRepository,
        groups: GroupDirectory,
        connections: Connections,
        uploads: Uploads,
        stepfunctions: Callable[[], Any],
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._store = store
        self._tickets = tickets
        self._sessions = sessions
        self._agents = agents
        self._groups = groups
        self._connections = connections
        self._uploads = uploads
        self._stepfunctions = stepfunctions
        self._names: dict[str, str] = {}

    # --- creating --------------------------------------------------------------------------------

    def create(self, principal: Principal, new: NewTicket) -> TicketModel:
        """A ticket by an agent (optionally from a chat or an offline message) or by a customer."""
        self._check_values(new.type, new.priority, new.description)
        session = self._linked_session(principal, new.session_id) if new.session_id else None
        if principal.is_visitor:
            source, customer_id = "widget", principal.user_id
        else:
            source = "offline_message" if session is not None and session.status == "offline" else "agent"
            customer_id = session.visitor_id if session is not None else ""
        group_id = new.group_id or (session.group_id if session is not None else "") or self._default_group()
        if self._groups.get(group_id) is None:
            raise ValidationFailed("No such group.", field="group_id")
        assignee_id, assignee_name = "", ""
        if new.assignee_id:
            if principal.is_visitor:
                raise NotParticipant("Customers cannot assign tickets.")
            if new.assignee_id != principal.user_id:
                principal.require("leader", "admin")
            assignee = self._agents.require(new.assignee_id)
            assignee_id, assignee_name = assignee.agent_id, assignee.name
        ticket_id = new_id("t")
        ticket = self._new(
            ticket_id,
            principal,
            new,
            source=source,
            customer_id=customer_id,
            group_id=group_id,
            assignee=(assignee_id, assignee_name),
            session_ids=self._history_of(customer_id, session),
        )
        for key in new.attachment_keys:
            self._uploads.verify_for_ticket(ticket_id, key)
        with transaction() as tx:
            tx.put("ticket", ticket, condition=TicketModel.pk.does_not_exist())
            tx.put("event", self._event(ticket, principal, "created", public=True, text=new.description))
            if session is not None and session.status == "offline":
                # The offline message is answered by the ticket: it leaves the group's offline list.
                tx.update(
                    "session",
                    session,
                    [
                        SessionModel.status.set("ended"),
                        SessionModel.ended_at.set(ticket.created_at),
                        SessionModel.gsi2pk.remove(),
                        SessionModel.gsi2sk.remove(),
                    ],
                    condition=SessionModel.status == "offline",
                )
        self.start_sla(ticket)
        self._announce(ticket, "assigned" if assignee_id else "created")
        return ticket

    def create_for_unsolved(self, session: SessionModel, comment: str) -> TicketModel:
        """A "not solved" vote puts the conversation into the ticket pool of its group, once."""
        ticket_id = f"t-{session.session_id.removeprefix('s-')}"
        existing = self._tickets.get(ticket_id)
        if existing is not None:
            return existing
        customer = Principal(role="visitor", user_id=session.visitor_id, name="")
        description = comment.strip() or session.preview or "会话结束时客户表示问题未解决"
        ticket = self._new(
            ticket_id,
            SYSTEM,
            NewTicket(type="other", priority="normal", description=description[:MAX_DESCRIPTION_CHARS]),
            source="unsolved_chat",
            customer_id=customer.user_id,
            group_id=session.group_id or self._default_group(),
            assignee=("", ""),
            session_ids=self._history_of(session.visitor_id, session),
        )
        try:
            with transaction() as tx:
                tx.put("ticket", ticket, condition=TicketModel.pk.does_not_exist())
                tx.put("event", self._event(ticket, SYSTEM, "created", public=True, text=description))
        except TransactionFailed as failure:
            if failure.failed_on("ticket"):
                return self._tickets.require(ticket_id)
            raise
        self.start_sla(ticket)
        self._announce(ticket, "created")
        return ticket

    def _new(
        self,
        ticket_id: str,
        principal: Principal,
        new: NewTicket,
        *,
        source: str,
        customer_id: str,
        group_id: str,
        assignee: tuple[str, str],
        session_ids: list[str],
    ) -> TicketModel:
        now = self._clock.now()
        policy = self._policies()[new.priority]
        clocks = {target: sla.Clock(policy.target(target), running_since=now) for target in sla.TARGETS}
        ticket = TicketModel(
            keys.ticket_pk(ticket_id),
            keys.META_SK,
            ticket_id=ticket_id,
            type=new.type,
            priority=new.priority,
            status="processing" if assignee[0] else "new",
            description=new.description,
            order_number=new.order_number,
            customer_id=customer_id,
            contact=new.contact,
            group_id=group_id,
            assignee_id=assignee[0],
            assignee_name=assignee[1],
            created_by=self._actor(principal),
            source=source,
            session_ids=session_ids,
            attachment_keys=list(new.attachment_keys),
            link_key=secrets.token_urlsafe(18),
            created_at=iso(now),
            updated_at=iso(now),
            version=1,
            sla_version=1,
            business_hours=policy.business_hours,
        )
        for name, value in self._sla_values(ticket, clocks).items():
            setattr(ticket, name, value)
        for name, value in index_keys(self._listed(ticket)).items():
            setattr(ticket, name, value)
        return ticket

    # --- changing --------------------------------------------------------------------------------

    def set_status(self, principal: Principal, ticket_id: str, version: int, status: str, reason: str) -> TicketModel:
        ticket = self.editable(principal, ticket_id)
        self._check_version(ticket, version)
        check_transition(ticket.status, status)
        change = Change()
        self._move_status(ticket, change, principal, status, reason)
        return self._apply(ticket, change, version)

    def update(
        self,
        principal: Principal,
        ticket_id: str,
        version: int,
        priority: str | None,
        type_: str | None,
        description: str | None,
        order_number: str | None,
    ) -> TicketModel:
        ticket = self.editable(principal, ticket_id)
        self._check_version(ticket, version)
        self._check_values(type_ or ticket.type, priority or ticket.priority, description or ticket.description)
        change = Change()
        edited: dict[str, Any] = {}
        for name, value in (
            ("type", type_),
            ("description", description),
            ("order_number", order_number),
            ("priority", priority),
        ):
            if value is not None and value != getattr(ticket, name):
                edited[name] = {"from": getattr(ticket, name), "to": value}
                change.values[name] = value
        if not edited:
            return ticket
        if "priority" in change.values:
            # New targets for the new priority; the counted time so far stays counted.
            policy = self._policies()[change.values["priority"]]
            clocks = {
                target: sla.Clock(policy.target(target), clock.used, clock.running_since)
                for target, clock in self._clocks(ticket).items()
            }
            change.values["business_hours"] = policy.business_hours
            change.values["clocks"] = {target: _stored(clock) for target, clock in clocks.items()}
            change.replan = True
        change.events.append(self._event(ticket, principal, "edited", data=edited))
        return self._apply(ticket, change, version)

    def assign(self, principal: Principal, ticket_id: str, version: int, agent_id: str | None) -> TicketModel:
        """Pulling from the group's queue (no agent named), or a leader handing it to someone."""
        ticket = self.editable(principal, ticket_id)
        self._check_version(ticket, version)
        if ticket.status in DONE:
            check_transition(ticket.status, "transferred")  # refuses with the lifecycle's message
        target_id = agent_id or principal.user_id
        if target_id != principal.user_id:
            principal.require("leader", "admin")
        agent = self._agents.require(target_id)
        if ticket.group_id not in (agent.group_ids or []) and target_id == principal.user_id:
            principal.require("leader", "admin")
        change = Change(values={"assignee_id": agent.agent_id, "assignee_name": agent.name})
        change.events.append(
            self._event(ticket, principal, "assigned", text=agent.name, data={"agent_id": agent.agent_id})
        )
        if ticket.status in ("new", "transferred"):
            self._move_status(ticket, change, principal, "processing", "")
        return self._apply(ticket, change, version)

    def transfer(self, principal: Principal, ticket_id: str, version: int, group_id: str, reason: str) -> TicketModel:
        ticket = self.editable(principal, ticket_id)
        self._check_version(ticket, version)
        if not reason.strip():
            raise ValidationFailed("A transfer needs a reason.", field="reason")
        target = self._groups.get(group_id)
        if target is None:
            raise ValidationFailed("No such group.", field="group_id")
        if group_id == ticket.group_id:
            raise ValidationFailed("The ticket is already in this group.", field="group_id")
        check_transition(ticket.status, "transferred")
        change = Change(values={"group_id": group_id, "assignee_id": "", "assignee_name": ""})
        self._move_status(ticket, change, principal, "transferred", "", record=False)
        change.events.append(
            self._event(
                ticket,
                principal,
                "transferred",
                text=reason,
                data={"from_group": ticket.group_id, "to_group": group_id, "from_status": ticket.status},
            )
        )
        return self._apply(ticket, change, version)

    def add_note(
        self, principal: Principal, ticket_id: str, text: str, public: bool, attachment_keys: Sequence[str] = ()
    ) -> TicketEventModel:
        """Staff add internal notes or public replies; a customer's words are always a public reply.

        The first public reply of staff meets the first-response target; a customer's reply to a
        ticket pending on them puts it back to processing, which restarts the clock.
        """
        if not text.strip():
            raise ValidationFailed("The note is empty.", field="text")
        if len(text) > MAX_DESCRIPTION_CHARS:
            raise ValidationFailed(f"A note holds at most {MAX_DESCRIPTION_CHARS} characters.", field="text")
        for _ in range(MAX_REPLY_ATTEMPTS):
            ticket = (
                self.readable(principal, ticket_id) if principal.is_visitor else self.editable(principal, ticket_id)
            )
            for key in attachment_keys:
                self._uploads.verify_for_ticket(ticket_id, key)
            public = public or principal.is_visitor
            kind = "reply" if public else "note"
            event = self._event(ticket, principal, kind, public=public, text=text, attachment_keys=attachment_keys)
            change = Change(events=[event])
            if public and principal.is_staff and not ticket.first_response_at:
                change.values["first_response_at"] = event.at
                change.replan = True
            if principal.is_visitor and ticket.status == "pending":
                self._move_status(ticket, change, principal, "processing", "")
            try:
                self._apply(ticket, change, int(ticket.version), announce=kind)
            except VersionConflict:
                continue
            return event
        raise VersionConflict("The ticket keeps changing; send again.")

    def archive_resolved(self, limit: int = 200) -> int:
        """Archives resolved and closed tickets older than the store's retention, oldest first.

        Reads only tickets created before the cutoff that are still in the live lists, so the work
        follows what is due for archiving, not the whole history.
        """
        now = self._clock.now()
        cutoff = iso(now - timedelta(days=int(self._store.config().ticket_retention_days)))
        archived = 0
        for status in sorted(DONE):
            page = self._tickets.list(
                TicketQuery(
                    "by_status",
                    f"TICKETS#STATUS#{status}",
                    sort_to=f"{cutoff}#~",
                    newest_first=False,
                    condition=(TicketModel.resolved_at < cutoff) | (TicketModel.closed_at < cutoff),
                ),
                limit,
                None,
            )
            for ticket in page.items:
                change = Change(values={"archived_at": iso(now)})
                change.events.append(self._event(ticket, SYSTEM, "archived"))
                try:
                    self._apply(ticket, change, int(ticket.version), announce=None)
                    archived += 1
                except VersionConflict:
                    logger.info("ticket changed while archiving", extra={"ticket_id": ticket.ticket_id})
        return archived

    def escalated(self, ticket_id: str, step: dict[str, Any]) -> TicketModel | None:
        """The state machine escalated: the timeline records it, and the people concerned hear it live."""
        ticket = self._tickets.get(ticket_id)
        if ticket is None:
            return None
        at = ticket.escalated_at or iso(self._clock.now())
        event_id = f"esc-{ticket.sla_version}-{step.get('target')}-{step.get('level')}"
        event = TicketEventModel(
            ticket.pk,
            keys.ticket_event_sk(int(ticket.version), event_id),
            ticket_id=ticket_id,
            event_id=event_id,
            at=at,
            kind="escalated",
            actor=self._actor(SYSTEM),
            public=False,
            text=str(step.get("notify", "")),
            data={key: step.get(key) for key in ("target", "level", "notify", "priority", "due_at")},
        )
        try:
            event.save(condition=TicketEventModel.pk.does_not_exist())
        except PutError as error:  # a redelivered notification: the event is already there
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
        notify = str(step.get("notify", "leader"))
        people = self._concerned(ticket) + self._managers(ticket.group_id, admins=notify == "admin")
        self._send(people, ticket, "escalated")
        return ticket

    # --- reading ---------------------------------------------------------------------------------

    def readable(self, principal: Principal, ticket_id: str) -> TicketModel:
        ticket = self._tickets.require(ticket_id)
        if principal.is_visitor:
            if ticket.customer_id != principal.user_id:
                raise NotParticipant("This is another customer's ticket.")
            return ticket
        return self._check_scope(principal, ticket)

    def editable(self, principal: Principal, ticket_id: str) -> TicketModel:
        if principal.is_visitor:
            raise NotParticipant("Customers can only reply to their tickets.")
        ticket = self._check_scope(principal, self._tickets.require(ticket_id))
        if ticket.archived_at:
            raise VersionConflict("This ticket is archived.", ticket_id=ticket_id)
        return ticket

    def by_link(self, ticket_id: str, key: str) -> TicketModel:
        ticket = self._tickets.get(ticket_id)
        if ticket is None or not secrets.compare_digest(ticket.link_key, key):
            raise NotFound("No such ticket.", ticket_id=ticket_id)
        return ticket

    def timeline(
        self, principal: Principal | None, ticket: TicketModel, limit: int, cursor: str | None
    ) -> Page[TicketEventModel]:
        public_only = principal is None or principal.is_visitor
        return self._tickets.events(ticket.ticket_id, limit, cursor, public_only)

    def of_customer(self, visitor_id: str, limit: int, cursor: str | None) -> Page[TicketModel]:
        return self._tickets.of_customer(visitor_id, limit, cursor)

    def search(self, principal: Principal, filters: Filters, limit: int, cursor: str | None) -> Page[TicketModel]:
        """One index per request (docs/data-model.md); the other filters narrow within it."""
        query = self._query(principal, filters)
        return self._tickets.list(query, limit, cursor)

    def linked_session(self, principal: Principal, ticket_id: str, session_id: str) -> TicketModel:
        ticket = self.readable(principal, ticket_id)
        if principal.is_visitor or session_id not in (ticket.session_ids or []):
            raise NotParticipant("That conversation is not linked to this ticket.")
        return ticket

    def presign(self, principal: Principal, ticket_id: str, content_type: str, size: int) -> dict[str, Any]:
        self.readable(principal, ticket_id)
        return self._uploads.presign_for_ticket(ticket_id, content_type, size)

    def view(self, ticket: TicketModel, public: bool = False) -> dict[str, Any]:
        now = self._clock.now()
        at_risk = timedelta(minutes=float(self._store.config().at_risk_minutes))
        running = ticket.status not in CLOCK_STOPPED
        state = sla.state(
            parse_iso(ticket.next_due_at) if ticket.next_due_at else None, now, at_risk, ticket.status in DONE, running
        )
        if state == "met" and int(ticket.escalation_level or 0) > 0:
            state = "breached"
        view: dict[str, Any] = {
            "ticket_id": ticket.ticket_id,
            "type": ticket.type,
            "priority": ticket.priority,
            "status": ticket.status,
            "description": ticket.description,
            "order_number": ticket.order_number,
            "customer_id": ticket.customer_id or None,
            "contact": ticket.contact,
            "group_id": ticket.group_id,
            "group_name": self._groups.name(ticket.group_id),
            "assignee_id": ticket.assignee_id or None,
            "assignee_name": ticket.assignee_name or None,
            "source": ticket.source,
            "created_at": ticket.created_at,
            "updated_at": ticket.updated_at,
            "version": int(ticket.version),
            "archived_at": ticket.archived_at,
            "sla": {
                "state": state,
                "next_due_at": ticket.next_due_at,
                "first_response_due_at": ticket.first_response_due_at,
                "resolution_due_at": ticket.resolution_due_at,
                "first_response_at": ticket.first_response_at,
                "resolved_at": ticket.resolved_at,
                "escalation_level": int(ticket.escalation_level or 0),
                "business_hours": bool(ticket.business_hours),
            },
        }
        if public:
            return view
        return {
            **view,
            "created_by": plain(ticket.created_by),
            "session_ids": list(ticket.session_ids or []),
            "attachments": [{"key": key, "url": self._uploads.view_url(key)} for key in (ticket.attachment_keys or [])],
            "allowed_statuses": allowed_next(ticket.status),
            "link": f"/shop/ticket.html?id={ticket.ticket_id}&key={ticket.link_key}",
        }

    def event_view(self, event: TicketEventModel) -> dict[str, Any]:
        return {
            "event_id": event.event_id,
            "at": event.at,
            "kind": event.kind,
            "actor": plain(event.actor),
            "public": bool(event.public),
            "text": event.text,
            "data": plain(event.data),
            "attachments": [{"key": key, "url": self._uploads.view_url(key)} for key in (event.attachment_keys or [])],
        }

    # --- the write path --------------------------------------------------------------------------

    def _apply(
        self, ticket: TicketModel, change: Change, version: int, announce: str | None = "updated"
    ) -> TicketModel:
        """One conditional write of the ticket with its events; then the clock and the people concerned."""
        before = (ticket.status, ticket.group_id, ticket.assignee_id)
        now = iso(self._clock.now())
        for name, value in change.values.items():
            setattr(ticket, name, value)
        derived: dict[str, Any] = {"version": version + 1, "updated_at": now}
        if change.replan:
            derived |= {"sla_version": int(ticket.sla_version) + 1, "escalated_step": None}
            derived |= self._sla_values(ticket, self._clocks(ticket))
        for name, value in derived.items():
            setattr(ticket, name, value)
        keys_now = index_keys(self._listed(ticket))
        for name, value in keys_now.items():
            setattr(ticket, name, value)
        written = {*change.values, *derived, *keys_now}
        actions = [
            getattr(TicketModel, name).set(getattr(ticket, name))
            if getattr(ticket, name) is not None
            else getattr(TicketModel, name).remove()
            for name in sorted(written)
        ]
        try:
            with transaction() as tx:
                tx.update("ticket", ticket, actions, condition=TicketModel.version == version)
                for index, event in enumerate(change.events):
                    event.sk = keys.ticket_event_sk(version + 1, index)
                    tx.put(f"event{index}", event, condition=TicketEventModel.pk.does_not_exist())
        except TransactionFailed as failure:
            if failure.failed_on("ticket"):
                current = self._tickets.get(ticket.ticket_id)
                raise VersionConflict(
                    "Someone changed this ticket meanwhile; reload it and try again.",
                    current_version=int(current.version) if current is not None else None,
                ) from failure
            raise
        if change.replan:
            self.start_sla(ticket)
        if announce is not None:
            self._announce(ticket, self._what_happened(before, ticket, announce))
        return ticket

    @staticmethod
    def _what_happened(before: tuple[str, str, str], ticket: TicketModel, default: str) -> str:
        if ticket.group_id != before[1]:
            return "transferred"
        if ticket.assignee_id and ticket.assignee_id != before[2]:
            return "assigned"
        return default

    def _move_status(
        self, ticket: TicketModel, change: Change, principal: Principal, status: str, reason: str, record: bool = True
    ) -> None:
        """The status, its timestamps, and the clocks it pauses or resumes."""
        now = self._clock.now()
        stops, starts = status in CLOCK_STOPPED, ticket.status in CLOCK_STOPPED
        change.values["status"] = status
        if status == "resolved":
            change.values["resolved_at"] = iso(now)
        if status == "closed":
            change.values["closed_at"] = iso(now)
        if is_reopening(ticket.status, status):
            change.values["resolved_at"] = None
            change.values["closed_at"] = None
        if stops != starts:
            clocks = self._clocks(ticket)
            calendar = self._calendar() if ticket.business_hours else None
            moved = {
                target: clock.pause(now, calendar) if stops else clock.resume(now) for target, clock in clocks.items()
            }
            change.values["clocks"] = {target: _stored(clock) for target, clock in moved.items()}
            change.replan = True
        if record:
            change.events.append(
                self._event(
                    ticket,
                    principal,
                    "status",
                    public=True,
                    text=reason,
                    data={"from": ticket.status, "to": status},
                )
            )

    # --- SLA -------------------------------------------------------------------------------------

    def _policies(self) -> dict[str, sla.Policy]:
        return sla.policies_from(plain(self._store.config().sla_policies))

    def _calendar(self) -> sla.Calendar:
        config = self._store.config()
        hours = config.business_hours
        weekly = plain(hours.weekly) or DEFAULT_WEEKLY
        return sla.Calendar.from_settings(hours.timezone or "Asia/Shanghai", weekly, list(config.holidays or []))

    def _clocks(self, ticket: TicketModel) -> dict[str, sla.Clock]:
        return {target: _clock_of(stored) for target, stored in plain(ticket.clocks).items()}

    def _sla_values(self, ticket: TicketModel, clocks: dict[str, sla.Clock]) -> dict[str, Any]:
        """Due times of the unmet targets, computed here from the calendar and stored on the ticket."""
        calendar = self._calendar() if ticket.business_hours else None
        dues = {target: clock.due(calendar) for target, clock in clocks.items()}
        unmet = {
            target: due
            for target, due in dues.items()
            if due is not None
            and ticket.status not in DONE
            and not (target == "first_response" and ticket.first_response_at)
        }
        return {
            "clocks": {target: _stored(clock) for target, clock in clocks.items()},
            "first_response_due_at": _iso_or_none(dues.get("first_response")),
            "resolution_due_at": _iso_or_none(dues.get("resolution")),
            "next_due_at": iso(min(unmet.values())) if unmet else None,
        }

    def start_sla(self, ticket: TicketModel) -> None:
        """One execution per SLA version: a retried start of the same name is refused, so never two."""
        if ticket.status in DONE:
            return
        clocks = self._clocks(ticket)
        if ticket.first_response_at:
            clocks.pop("first_response", None)
        calendar = self._calendar() if ticket.business_hours else None
        ladder = sla.ladder_from(list(self._store.config().escalation_ladder or []))
        plan = sla.plan(
            ticket.ticket_id, int(ticket.sla_version), ticket.priority, PRIORITIES, clocks, calendar, ladder
        )
        if not plan["steps"]:
            return
        for step in plan["steps"]:
            step["priority_list"] = priority_list(step["priority"])
            step["queue_key"] = queue_sort_key(step["priority"], _millis(step["target_due_at"]), ticket.ticket_id)
        client = self._stepfunctions()
        try:
            client.start_execution(
                stateMachineArn=self._settings.sla_state_machine_arn,
                name=sla.execution_name(ticket.ticket_id, int(ticket.sla_version)),
                input=json.dumps(plan),
            )
        except client.exceptions.ExecutionAlreadyExists:
            logger.info("SLA execution already running", extra={"ticket_id": ticket.ticket_id})

    # --- helpers ---------------------------------------------------------------------------------

    def _query(self, principal: Principal, filters: Filters) -> TicketQuery:
        for value, allowed, name in (
            (filters.status, STATUSES, "status"),
            (filters.priority, PRIORITIES, "priority"),
            (filters.type, TYPES, "type"),
            (filters.sla, sla.SLA_STATES, "sla"),
        ):
            if value is not None and value not in allowed:
                raise ValidationFailed(f"{name} must be one of {', '.join(allowed)}.", field=name)
        created_from = filters.created_from or None
        created_to = f"{filters.created_to}#~" if filters.created_to else None
        conditions: list[Any] = []
        assignee = principal.user_id if filters.assignee == "me" else filters.assignee
        if filters.archived_month:
            query = TicketQuery("by_status", f"TICKETS#ARCHIVE#{filters.archived_month}", created_from, created_to)
            conditions += self._narrowing(filters, skip={"status"})
        elif filters.sla is not None:
            now = self._clock.now()
            window = timedelta(minutes=float(self._store.config().at_risk_minutes))
            bounds = {
                "breached": (None, iso(now)),
                "at_risk": (iso(now), iso(now + window)),
                "on_track": (iso(now + window), None),
            }[filters.sla]
            query = TicketQuery("by_due", SLA_LIST, bounds[0], bounds[1], newest_first=False)
            conditions += self._narrowing(filters, skip=set(), created=True)
        elif assignee:
            done = filters.status in DONE
            owner = (
                f"TICKETS#POOL#{self._pool_group(principal, filters)}"
                if assignee == "none"
                else f"TICKETS#AGENT#{assignee}"
            )
            query = TicketQuery("by_queue", f"{owner}#done" if done else owner, newest_first=done)
            skip = {"group_id"} if assignee == "none" else set()
            conditions += self._narrowing(filters, skip=skip, created=True)
        else:
            index, list_key, skip = self._primary(filters)
            query = TicketQuery(index, list_key, created_from, created_to)
            conditions += self._narrowing(filters, skip=skip)
        if not principal.has_role("leader", "admin"):
            agent = self._agents.require(principal.user_id)
            mine = TicketModel.assignee_id == principal.user_id
            groups = list(agent.group_ids or [])
            conditions.append(mine | TicketModel.group_id.is_in(*groups) if groups else mine)
        condition = None
        for part in conditions:
            condition = part if condition is None else condition & part
        return TicketQuery(query.index, query.list_key, query.sort_from, query.sort_to, query.newest_first, condition)

    @staticmethod
    def _primary(filters: Filters) -> tuple[str, str, set[str]]:
        if filters.group_id:
            return "by_group", f"TICKETS#GROUP#{filters.group_id}", {"group_id"}
        if filters.status:
            return "by_status", f"TICKETS#STATUS#{filters.status}", {"status"}
        if filters.priority:
            return "by_priority", priority_list(filters.priority), {"priority"}
        if filters.type:
            return "by_type", f"TICKETS#TYPE#{filters.type}", {"type"}
        return "by_created", keys.TICKETS_LIST, set()

    @staticmethod
    def _narrowing(filters: Filters, skip: set[str], created: bool = False) -> list[Any]:
        conditions: list[Any] = []
        for name in ("status", "priority", "type", "group_id"):
            value = getattr(filters, name)
            if value is not None and name not in skip:
                conditions.append(getattr(TicketModel, name) == value)
        if created and filters.created_from:
            conditions.append(TicketModel.created_at >= filters.created_from)
        if created and filters.created_to:
            conditions.append(TicketModel.created_at <= filters.created_to)
        return conditions

    def _pool_group(self, principal: Principal, filters: Filters) -> str:
        if filters.group_id:
            return filters.group_id
        agent = self._agents.get(principal.user_id)
        groups = list(agent.group_ids or []) if agent is not None else []
        if len(groups) != 1:
            raise ValidationFailed("Name the group whose pool to list.", field="group_id")
        return groups[0]

    def _check_scope(self, principal: Principal, ticket: TicketModel) -> TicketModel:
        if principal.has_role("leader", "admin") or ticket.assignee_id == principal.user_id:
            return ticket
        agent = self._agents.get(principal.user_id)
        if agent is None or ticket.group_id not in (agent.group_ids or []):
            raise NotYourTicket("This ticket belongs to another group.", group_id=ticket.group_id)
        return ticket

    @staticmethod
    def _check_version(ticket: TicketModel, version: int) -> None:
        if int(ticket.version) != version:
            raise VersionConflict(
                "Someone changed this ticket meanwhile; reload it and try again.", current_version=int(ticket.version)
            )

    @staticmethod
    def _check_values(type_: str, priority: str, description: str) -> None:
        if type_ not in TYPES:
            raise ValidationFailed(f"type must be one of {', '.join(TYPES)}.", field="type")
        if priority not in PRIORITIES:
            raise ValidationFailed(f"priority must be one of {', '.join(PRIORITIES)}.", field="priority")
        if not description.strip():
            raise ValidationFailed("Describe the problem.", field="description")
        if len(description) > MAX_DESCRIPTION_CHARS:
            raise ValidationFailed(
                f"A description holds at most {MAX_DESCRIPTION_CHARS} characters.", field="description"
            )

    def _linked_session(self, principal: Principal, session_id: str) -> SessionModel:
        session = self._sessions.get(session_id)
        if session is None:
            raise NotFound("No such session.", session_id=session_id)
        if principal.is_visitor:
            if session.visitor_id != principal.user_id:
                raise NotParticipant("This is another visitor's conversation.")
            return session
        if principal.has_role("leader", "admin") or session.agent_id == principal.user_id:
            return session
        agent = self._agents.get(principal.user_id)
        if agent is None or session.group_id not in (agent.group_ids or []):
            raise NotParticipant("This session is not yours or your group's.")
        return session

    def _history_of(self, customer_id: str, session: SessionModel | None) -> list[str]:
        """The chat the ticket came from first, then the customer's other recent chats."""
        linked = [session.session_id] if session is not None else []
        if customer_id:
            recent = self._sessions.of_visitor(customer_id, LINKED_SESSIONS, None).items
            linked += [s.session_id for s in recent if s.session_id not in linked]
        return linked[:LINKED_SESSIONS]

    def _default_group(self) -> str:
        configured = self._store.config().default_group_id
        if configured:
            return configured
        groups = self._groups.all()
        default = next((g.group_id for g in groups.values() if g.is_default), None)
        return default or next(iter(groups), "default")

    def _event(
        self,
        ticket: TicketModel,
        principal: Principal,
        kind: str,
        *,
        public: bool = False,
        text: str = "",
        data: dict[str, Any] | None = None,
        attachment_keys: Sequence[str] = (),
    ) -> TicketEventModel:
        at = iso(self._clock.now())
        event_id = new_id("e")
        return TicketEventModel(
            ticket.pk,
            keys.ticket_event_sk(1, 0),  # placed by the write that stores it (`_apply`)
            ticket_id=ticket.ticket_id,
            event_id=event_id,
            at=at,
            kind=kind,
            actor=self._actor(principal),
            public=public,
            text=text,
            data=data or {},
            attachment_keys=list(attachment_keys),
        )

    def _actor(self, principal: Principal) -> dict[str, str]:
        """Who did it, with a display name: a staff token may not carry one, so the profile's is cached."""
        name = principal.name
        if not name and principal.is_staff and principal.user_id != SYSTEM.user_id:
            if principal.user_id not in self._names:
                agent = self._agents.get(principal.user_id)
                self._names[principal.user_id] = agent.name if agent is not None else ""
            name = self._names[principal.user_id]
        return {"role": principal.role, "id": principal.user_id, "name": name}

    @staticmethod
    def _listed(ticket: TicketModel) -> Listed:
        return Listed(
            ticket_id=ticket.ticket_id,
            status=ticket.status,
            priority=ticket.priority,
            type=ticket.type,
            group_id=ticket.group_id,
            assignee_id=ticket.assignee_id,
            customer_id=ticket.customer_id,
            created_at=ticket.created_at,
            next_due_at=ticket.next_due_at,
            done_at=ticket.closed_at or ticket.resolved_at,
            archived_at=ticket.archived_at,
        )

    # --- live updates ----------------------------------------------------------------------------

    def _announce(self, ticket: TicketModel, event: str) -> None:
        people = self._concerned(ticket)
        if not ticket.assignee_id or event in ("created", "transferred"):
            people += [keys.principal_key("agent", a) for a in self._groups.members(ticket.group_id)]
        self._send(people, ticket, event)

    def _concerned(self, ticket: TicketModel) -> list[str]:
        return [keys.principal_key("agent", ticket.assignee_id)] if ticket.assignee_id else []

    def _managers(self, group_id: str, admins: bool) -> list[str]:
        """Leaders of the group; for the admin rung, every admin of the store as well."""
        members = self._agents.many(self._groups.members(group_id))
        wanted = {"leader", "admin"} if admins else {"leader"}
        people = [keys.principal_key("agent", a.agent_id) for a in members if a.role in wanted]
        if admins:
            cursor: str | None = None
            while True:
                page = self._agents.page(200, cursor)
                people += [keys.principal_key("agent", a.agent_id) for a in page.items if a.role == "admin"]
                cursor = page.next_cursor
                if cursor is None:
                    break
        return people

    def _send(self, people: list[str], ticket: TicketModel, event: str) -> None:
        staff = list(dict.fromkeys(people))
        frame = {"type": "ticket", "event": event, "ticket": self.view(ticket)}
        self._connections.send_to(staff, frame)
        if ticket.customer_id and event in ("reply", "updated"):
            self._connections.send_to(
                [keys.principal_key("visitor", ticket.customer_id)],
                {"type": "ticket", "event": event, "ticket": self.view(ticket, public=True)},
            )


def _iso_or_none(moment: datetime | None) -> str | None:
    return iso(moment) if moment is not None else None


def _millis(stamp: str) -> str:
    """A step's whole-second due time in the ticket's own ISO form, so queue keys sort alike."""
    return iso(datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC))
