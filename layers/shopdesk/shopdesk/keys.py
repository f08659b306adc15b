"""Pure builders of the single table's keys. docs/data-model.md lists every access pattern."""

from __future__ import annotations

SEQ_WIDTH = 10


def agent_pk(agent_id: str) -> str:
    return f"AGENT#{agent_id}"


def group_pk(group_id: str) -> str:
    return f"GROUP#{group_id}"


def session_pk(session_id: str) -> str:
    return f"SESSION#{session_id}"


def visitor_pk(visitor_id: str) -> str:
    return f"VISITOR#{visitor_id}"


def message_sk(seq: int) -> str:
    return f"MSG#{seq:0{SEQ_WIDTH}d}"


def client_message_sk(sender_id: str, client_msg_id: str) -> str:
    return f"CMID#{sender_id}#{client_msg_id}"


def connection_pk(connection_id: str) -> str:
    return f"CONN#{connection_id}"


def principal_key(role: str, user_id: str) -> str:
    """Visitors and staff live in different id spaces: the role keeps them apart."""
    kind = "visitor" if role == "visitor" else "staff"
    return f"{kind}:{user_id}"


def connection_set_pk(principal: str) -> str:
    return f"CONNS#{principal}"


def rate_pk(visitor_id: str) -> str:
    return f"RATE#{visitor_id}"


def rate_sk(window_start_epoch: int) -> str:
    return f"WINDOW#{window_start_epoch}"


def queue_gsi(group_id: str) -> str:
    return f"QUEUE#{group_id}"


def offline_gsi(group_id: str) -> str:
    return f"OFFLINE#{group_id}"


def agent_sessions_gsi(agent_id: str, status: str) -> str:
    return f"AGENT#{agent_id}#{status}"


def quick_reply_pk(owner_agent_id: str | None) -> str:
    return f"QR#AGENT#{owner_agent_id}" if owner_agent_id else "QR#STORE"


def agent_kpi_pk(agent_id: str, day: str) -> str:
    return f"KPI#AGENT#{agent_id}#{day}"


def timeline_sk(at: str, session_id: str) -> str:
    """Sort key for lists ordered by time, unique per session."""
    return f"{at}#{session_id}"


def ticket_pk(ticket_id: str) -> str:
    return f"TICKET#{ticket_id}"


def ticket_event_sk(version: int, position: int | str) -> str:
    """Timeline order is write order: the ticket version each change made, then its place in it."""
    return f"EVENT#{version:010d}#{position}"


def visitor_tickets_gsi(visitor_id: str) -> str:
    return f"VTICKETS#{visitor_id}"


def kb_entry_pk(entry_id: str) -> str:
    return f"KB#{entry_id}"


def kb_category_gsi(category: str) -> str:
    return f"KB#CATEGORY#{category}"


def unanswered_sk(question_hash: str) -> str:
    return f"Q#{question_hash}"


def unanswered_rank_sk(count: int, question_hash: str) -> str:
    """Most asked first when read newest-first: the count, zero-padded so it sorts as a number."""
    return f"{count:010d}#{question_hash}"


def bot_stats_pk(scope: str) -> str:
    """`STORE` or `GROUP#{id}`: the scopes the supervisor view reads."""
    return f"STATS#BOT#{scope}"


def stats_day_sk(day: str) -> str:
    return f"D#{day}"


def stats_window_sk(window_start: str) -> str:
    return f"W#{window_start}"


def order_pk(order_number: str) -> str:
    return f"ORDER#{order_number}"


def order_event_sk(event_id: str) -> str:
    return f"EVENT#{event_id}"


def buyer_orders_gsi(buyer_id: str) -> str:
    return f"BUYER#{buyer_id}#ORDERS"


def signature_seen_pk(digest: str) -> str:
    return f"SIGNED#{digest}"


def agent_stats_pk(agent_id: str) -> str:
    return f"STATS#AGENT#{agent_id}"


def monitor_day_pk(day: str) -> str:
    """A day's trend: one point per 3-minute refresh."""
    return f"MONITOR#{day}"


STORE_PK = "STORE"
CONFIG_SK = "CONFIG"
PRESENCE_SK = "PRESENCE"
PROFILE_SK = "PROFILE"
META_SK = "META"
SET_SK = "SET"
AGENTS_LIST = "AGENTS"
GROUPS_LIST = "GROUPS"
TICKETS_LIST = "TICKETS"
KB_LIST = "KB"
BOT_SK = "BOT"
FIRST_QUESTIONS_PK = "BOT#FIRSTQ"
UNANSWERED_PK = "BOT#UNANSWERED"
UNANSWERED_OPEN = "BOT#UNANSWERED#OPEN"
SHOP_STATS_PK = "STATS#SHOP"
MONITOR_PK = "MONITOR"
LATEST_SK = "LATEST"
ALERTS_SK = "ALERTS"
AUDIT_PK = "AUDIT"
GUIDED_SK = "GUIDED"
