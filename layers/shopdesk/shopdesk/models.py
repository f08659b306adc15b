"""pynamodb models over the single ShopDesk table. Key layouts come from `shopdesk.keys`."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.connection import TableConnection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from shopdesk.config import get_settings


class _FromSettings:
    """A Meta value read from the settings on each access, so the models follow the configured table."""

    def __init__(self, field: str) -> None:
        self._field = field

    def __get__(self, instance: object, owner: type) -> str:
        return str(getattr(get_settings(), self._field))


class _Meta:
    table_name = _FromSettings("table_name")
    region = _FromSettings("region")


# pynamodb opens a botocore session and client per model class, about 10 MB each. Every model lives
# in one table, so they share one connection per table, built from the ticket model's schema,
# which knows every index.
_connections: dict[str, TableConnection] = {}


class Gsi1(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class Gsi2(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


def _index(number: int) -> type[GlobalSecondaryIndex[Any]]:
    """gsi3 … gsi8: the ticket lists (docs/data-model.md), all alike: string keys, every attribute."""
    name = f"gsi{number}"
    meta = type("Meta", (), {"index_name": name, "projection": AllProjection()})
    attributes = {
        "Meta": meta,
        f"{name}pk": UnicodeAttribute(hash_key=True),
        f"{name}sk": UnicodeAttribute(range_key=True),
    }
    return type(f"Gsi{number}", (GlobalSecondaryIndex,), attributes)


Gsi3, Gsi4, Gsi5, Gsi6, Gsi7, Gsi8 = (_index(n) for n in range(3, 9))


class Item(Model):
    """Every entity shares the table's key schema, and one connection."""

    class Meta(_Meta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)

    @classmethod
    def _get_connection(cls) -> TableConnection:
        table = str(cls.Meta.table_name)
        if table not in _connections:
            _connections[table] = Model._get_connection.__func__(TicketModel)  # type: ignore[attr-defined]
        return _connections[table]


class AgentModel(Item):
    class Meta(_Meta):
        pass

    agent_id = UnicodeAttribute()
    username = UnicodeAttribute()
    name = UnicodeAttribute()
    role = UnicodeAttribute()
    group_ids = ListAttribute[str](default=list)
    capacity = NumberAttribute(default=5)
    level = NumberAttribute(default=1)
    status = UnicodeAttribute(default="offline")
    suspended = BooleanAttribute(default=False)
    active_count = NumberAttribute(default=0)
    last_assigned_at = UnicodeAttribute(default="")
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    by_list = Gsi1()


class GroupModel(Item):
    class Meta(_Meta):
        pass

    group_id = UnicodeAttribute()
    name = UnicodeAttribute()
    keywords = ListAttribute[str](default=list)
    strategy = UnicodeAttribute(default="least_busy")
    channels = ListAttribute[str](default=list)
    is_default = BooleanAttribute(default=False)
    member_ids = ListAttribute[str](default=list)
    last_agent_id = UnicodeAttribute(default="")
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    by_list = Gsi1()


class BusinessHours(MapAttribute[str, Any]):
    timezone = UnicodeAttribute(default="Asia/Shanghai")
    # Monday=0 … Sunday=6 → ["09:00", "22:00"]; a missing day is closed.
    weekly = MapAttribute[str, Any](default=dict)


class StoreConfigModel(Item):
    class Meta(_Meta):
        pass

    # Tickets: SLA policy per priority, escalation ladder, calendar holidays, list and archive windows.
    sla_policies = MapAttribute[str, Any](default=dict)
    escalation_ladder = ListAttribute[Any](default=list)
    holidays = ListAttribute[str](default=list)
    at_risk_minutes = NumberAttribute(default=30)
    ticket_retention_days = NumberAttribute(default=90)
    # Monitoring: a payment within this many hours after an agent served the buyer is a guided sale.
    guided_window_hours = NumberAttribute(default=24)

    first_response_seconds = NumberAttribute(default=30)
    messages_per_minute = NumberAttribute(default=20)
    default_group_id = UnicodeAttribute(default="")
    channel_rules = MapAttribute[str, Any](default=dict)
    business_hours = BusinessHours(default=BusinessHours)
    welcome = UnicodeAttribute(default="")


class PresenceModel(Item):
    class Meta(_Meta):
        pass

    online_agents = NumberAttribute(default=0)


class VisitorModel(Item):
    class Meta(_Meta):
        pass

    visitor_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    shop_user_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()


class Rating(MapAttribute[str, Any]):
    stars = NumberAttribute()
    comment = UnicodeAttribute(default="")
    solved = BooleanAttribute()
    rated_at = UnicodeAttribute()


class SessionModel(Item):
    class Meta(_Meta):
        pass

    session_id = UnicodeAttribute()
    visitor_id = UnicodeAttribute()
    status = UnicodeAttribute()
    channel = UnicodeAttribute(default="web")
    page = UnicodeAttribute(default="")
    group_id = UnicodeAttribute(default="")
    agent_id = UnicodeAttribute(default="")
    agent_name = UnicodeAttribute(default="")
    created_at = UnicodeAttribute()
    queued_at = UnicodeAttribute(null=True)
    assigned_at = UnicodeAttribute(null=True)
    ended_at = UnicodeAttribute(null=True)
    last_seq = NumberAttribute(default=0)
    awaiting_since = UnicodeAttribute(null=True)
    consulted_at = UnicodeAttribute(null=True)  # the customer's first words: an inquiry, for the figures
    first_response_at = UnicodeAttribute(null=True)
    slow_responses = NumberAttribute(default=0)
    reminded_for = UnicodeAttribute(null=True)
    transfers = NumberAttribute(default=0)
    preview = UnicodeAttribute(default="")
    contact = UnicodeAttribute(null=True)
    rating = Rating(null=True)
    # While the bot serves: its flow state, whether the customer spoke to it, and why it handed over.
    bot = MapAttribute[str, Any](null=True)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    by_visitor = Gsi1()
    by_owner = Gsi2()


class MessageModel(Item):
    class Meta(_Meta):
        pass

    session_id = UnicodeAttribute()
    seq = NumberAttribute()
    sender_role = UnicodeAttribute()
    sender_id = UnicodeAttribute()
    sender_name = UnicodeAttribute(default="")
    kind = UnicodeAttribute()
    text = UnicodeAttribute(default="")
    image_key = UnicodeAttribute(null=True)
    client_msg_id = UnicodeAttribute(default="")
    created_at = UnicodeAttribute()
    # A bot turn's rich part: the answer, suggestions, first questions, an order card.
    data = MapAttribute[str, Any](null=True)


class ClientMessageModel(Item):
    """Marks a client message id as used, so a retried send never stores twice."""

    class Meta(_Meta):
        pass

    seq = NumberAttribute()


class ConnectionModel(Item):
    class Meta(_Meta):
        pass

    connection_id = UnicodeAttribute()
    principal = UnicodeAttribute()
    role = UnicodeAttribute()
    user_id = UnicodeAttribute()
    name = UnicodeAttribute(default="")
    connected_at = UnicodeAttribute()
    expires_at = NumberAttribute()


class ConnectionSetModel(Item):
    """All open connections of one person: one read finds every tab."""

    class Meta(_Meta):
        pass

    connection_ids = UnicodeSetAttribute(default=set)


class RateWindowModel(Item):
    class Meta(_Meta):
        pass

    messages = NumberAttribute(default=0)
    expires_at = NumberAttribute()


class QuickReplyModel(Item):
    class Meta(_Meta):
        pass

    reply_id = UnicodeAttribute()
    title = UnicodeAttribute()
    text = UnicodeAttribute()
    keywords = ListAttribute[str](default=list)
    scope = UnicodeAttribute()


class AgentKpiModel(Item):
    class Meta(_Meta):
        pass

    slow_responses = NumberAttribute(default=0)


class TicketModel(Item):
    """One ticket. Its list keys (gsi1…gsi8) are derived by `ticket_rules.index_keys` on every write."""

    class Meta(_Meta):
        pass

    ticket_id = UnicodeAttribute()
    type = UnicodeAttribute()
    priority = UnicodeAttribute()
    status = UnicodeAttribute()
    description = UnicodeAttribute()
    order_number = UnicodeAttribute(default="")
    customer_id = UnicodeAttribute(default="")
    contact = UnicodeAttribute(default="")
    group_id = UnicodeAttribute(default="")
    assignee_id = UnicodeAttribute(default="")
    assignee_name = UnicodeAttribute(default="")
    created_by = MapAttribute[str, Any](default=dict)
    source = UnicodeAttribute()
    session_ids = ListAttribute[str](default=list)
    attachment_keys = ListAttribute[str](default=list)
    link_key = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=1)
    # SLA: the clocks as sla.Clock fields, due times computed in Python, and the state machine's marks.
    sla_version = NumberAttribute(default=1)
    business_hours = BooleanAttribute(default=False)
    clocks = MapAttribute[str, Any](default=dict)
    first_response_due_at = UnicodeAttribute(null=True)
    resolution_due_at = UnicodeAttribute(null=True)
    next_due_at = UnicodeAttribute(null=True)
    first_response_at = UnicodeAttribute(null=True)
    resolved_at = UnicodeAttribute(null=True)
    closed_at = UnicodeAttribute(null=True)
    escalation_level = NumberAttribute(default=0)
    escalated_step = NumberAttribute(null=True)
    escalated_at = UnicodeAttribute(null=True)
    archived_at = UnicodeAttribute(null=True)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi3pk = UnicodeAttribute(null=True)
    gsi3sk = UnicodeAttribute(null=True)
    gsi4pk = UnicodeAttribute(null=True)
    gsi4sk = UnicodeAttribute(null=True)
    gsi5pk = UnicodeAttribute(null=True)
    gsi5sk = UnicodeAttribute(null=True)
    gsi6pk = UnicodeAttribute(null=True)
    gsi6sk = UnicodeAttribute(null=True)
    gsi7pk = UnicodeAttribute(null=True)
    gsi7sk = UnicodeAttribute(null=True)
    gsi8pk = UnicodeAttribute(null=True)
    gsi8sk = UnicodeAttribute(null=True)
    by_customer = Gsi1()
    by_status = Gsi2()
    by_queue = Gsi3()
    by_group = Gsi4()
    by_priority = Gsi5()
    by_type = Gsi6()
    by_due = Gsi7()
    by_created = Gsi8()


class TicketEventModel(Item):
    """One line of a ticket's timeline: a change, an internal note or a public reply."""

    class Meta(_Meta):
        pass

    ticket_id = UnicodeAttribute()
    event_id = UnicodeAttribute()
    at = UnicodeAttribute()
    kind = UnicodeAttribute()
    actor = MapAttribute[str, Any](default=dict)
    public = BooleanAttribute(default=False)
    text = UnicodeAttribute(default="")
    data = MapAttribute[str, Any](default=dict)
    attachment_keys = ListAttribute[str](default=list)


class BotConfigModel(Item):
    """The store's bot: its mode, thresholds, dictionary, and which knowledge-base index is live."""

    class Meta(_Meta):
        pass

    mode = UnicodeAttribute(default="off")
    answer_threshold = NumberAttribute(null=True)
    suggest_threshold = NumberAttribute(null=True)
    greeting = UnicodeAttribute(default="")
    words = ListAttribute[str](default=list)
    synonyms = MapAttribute[str, Any](default=dict)
    # Every knowledge-base change bumps kb_version; the index published last says which version it holds.
    kb_version = NumberAttribute(default=0)
    index_version = NumberAttribute(default=0)
    index_key = UnicodeAttribute(default="")
    intents_key = UnicodeAttribute(default="")
    intents_version = NumberAttribute(default=0)
    flows = MapAttribute[str, Any](default=dict)
    order_source = UnicodeAttribute(default="events")
    orders_csv_key = UnicodeAttribute(default="")
    updated_at = UnicodeAttribute(null=True)


class KbEntryModel(Item):
    class Meta(_Meta):
        pass

    entry_id = UnicodeAttribute()
    question = UnicodeAttribute()
    similar = ListAttribute[str](default=list)
    answer = UnicodeAttribute()
    category = UnicodeAttribute()
    tags = ListAttribute[str](default=list)
    enabled = BooleanAttribute(default=True)
    version = NumberAttribute(default=1)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    updated_by = MapAttribute[str, Any](default=dict)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    by_list = Gsi1()
    by_category = Gsi2()


class FirstQuestionModel(Item):
    class Meta(_Meta):
        pass

    question_id = UnicodeAttribute()
    text = UnicodeAttribute()
    entry_id = UnicodeAttribute(default="")
    position = NumberAttribute(default=0)
    clicks = NumberAttribute(default=0)


class UnansweredModel(Item):
    """A question the bot could not answer, counted each time it is asked again."""

    class Meta(_Meta):
        pass

    question_id = UnicodeAttribute()
    text = UnicodeAttribute()
    asked = NumberAttribute(default=0)
    first_at = UnicodeAttribute()
    last_at = UnicodeAttribute()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    by_rank = Gsi1()


class BotStatsModel(Item):
    """Bot counters of one scope (store or group) and one day or 3-minute window, added to at event time."""

    class Meta(_Meta):
        pass

    consults = NumberAttribute(default=0)
    transfers = NumberAttribute(default=0)
    resolved = NumberAttribute(default=0)
    answered = NumberAttribute(default=0)
    first_question_clicks = NumberAttribute(default=0)
    unanswered = NumberAttribute(default=0)
    # The store's day only: buyers the bot replied to, for the shop's receptions.
    buyers = UnicodeSetAttribute(null=True)
    expires_at = NumberAttribute(null=True)


class OrderModel(Item):
    class Meta(_Meta):
        pass

    order_number = UnicodeAttribute()
    status = UnicodeAttribute()
    buyer_id = UnicodeAttribute(default="")
    amount_cents = NumberAttribute(default=0)
    items = ListAttribute[str](default=list)
    carrier = UnicodeAttribute(default="")
    tracking_number = UnicodeAttribute(default="")
    latest_event = UnicodeAttribute(default="")
    updated_at = UnicodeAttribute(default="")
    paid_at = UnicodeAttribute(default="")
    placed_at = UnicodeAttribute(default="")
    # The shop may post events out of order: the newest occurred_at wins.
    occurred_at = UnicodeAttribute(default="")
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    by_buyer = Gsi1()


class OrderEventModel(Item):
    """Marks an order event as applied, so a redelivered webhook changes nothing; `GUIDED` marks a
    payment already credited to an agent."""

    class Meta(_Meta):
        pass

    type = UnicodeAttribute()
    received_at = UnicodeAttribute()


class SignatureSeenModel(Item):
    """A signed request already accepted: the same signature again is a replay. Kept past the
    signature's validity window, then expired by TTL."""

    class Meta(_Meta):
        pass

    expires_at = NumberAttribute()


class AgentWindowModel(Item):
    """An agent's response times in one 3-minute window: question → reply, once the reply happened."""

    class Meta(_Meta):
        pass

    response_ms = NumberAttribute(default=0)
    responses = NumberAttribute(default=0)
    expires_at = NumberAttribute(null=True)


class AgentDayModel(Item):
    """An agent's store-local day: the buyers it replied to (its receptions) and the sales it guided."""

    class Meta(_Meta):
        pass

    buyers = UnicodeSetAttribute(null=True)
    guided_amount_cents = NumberAttribute(default=0)
    guided_buyers = UnicodeSetAttribute(null=True)


class ShopDayModel(Item):
    """The shop's store-local day: inquiring buyers and guided sales (receptions come from the agents and the bot)."""

    class Meta(_Meta):
        pass

    inquiring = UnicodeSetAttribute(null=True)
    guided_amount_cents = NumberAttribute(default=0)
    guided_buyers = UnicodeSetAttribute(null=True)


class MonitorModel(Item):
    """A computed snapshot: the latest one, each 3-minute point of a day's trend, and each closed day."""

    class Meta(_Meta):
        pass

    as_of = UnicodeAttribute()
    day = UnicodeAttribute()
    body = UnicodeAttribute()  # the snapshot's JSON, as the dashboard reads it
    expires_at = NumberAttribute(null=True)


class AlertSettingsModel(Item):
    class Meta(_Meta):
        pass

    shop = MapAttribute[str, Any](default=dict)
    groups = MapAttribute[str, Any](default=dict)
    # recipient → its subscription on the supervisor topic, so a removed recipient is unsubscribed.
    subscriptions = MapAttribute[str, Any](default=dict)
    version = NumberAttribute(default=0)
    updated_at = UnicodeAttribute(null=True)


class AuditModel(Item):
    """Who did what, when: every dispatch action."""

    class Meta(_Meta):
        pass

    at = UnicodeAttribute()
    actor = MapAttribute[str, Any](default=dict)
    action = UnicodeAttribute()
    target = UnicodeAttribute()
    details = MapAttribute[str, Any](default=dict)
