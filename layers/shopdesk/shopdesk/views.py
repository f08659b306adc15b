"""How sessions and messages look on the wire (REST bodies and WebSocket frames)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shopdesk.models import AgentModel, MessageModel, SessionModel
from shopdesk.store import plain


def session_view(session: SessionModel, queue_position: int | None = None) -> dict[str, Any]:
    rating = session.rating
    return {
        "session_id": session.session_id,
        "status": session.status,
        "visitor_id": session.visitor_id,
        "group_id": session.group_id or None,
        "agent_id": session.agent_id or None,
        "agent_name": session.agent_name or None,
        "channel": session.channel,
        "page": session.page,
        "created_at": session.created_at,
        "queued_at": session.queued_at,
        "assigned_at": session.assigned_at,
        "ended_at": session.ended_at,
        "last_seq": int(session.last_seq),
        "awaiting_since": session.awaiting_since,
        "preview": session.preview,
        "contact": session.contact,
        "queue_position": queue_position,
        "rating": None
        if rating is None
        else {"stars": int(rating.stars), "comment": rating.comment, "solved": rating.solved},
    }


def message_view(message: MessageModel, image_url: Callable[[str], str]) -> dict[str, Any]:
    return {
        "session_id": message.session_id,
        "seq": int(message.seq),
        "sender": {"role": message.sender_role, "id": message.sender_id, "name": message.sender_name},
        "kind": message.kind,
        "text": message.text,
        "image_url": image_url(message.image_key) if message.image_key else None,
        "client_msg_id": message.client_msg_id or None,
        "created_at": message.created_at,
        "bot": plain(message.data) or None,
    }


def agent_view(agent: AgentModel) -> dict[str, Any]:
    return {
        "agent_id": agent.agent_id,
        "username": agent.username,
        "name": agent.name,
        "role": agent.role,
        "group_ids": list(agent.group_ids or []),
        "capacity": int(agent.capacity),
        "level": int(agent.level),
        "status": agent.status,
        "suspended": agent.suspended,
        "active_count": int(agent.active_count),
    }
