"""The supervisor's counters, moved at event time by the request that caused the event.

Inline writes rather than a DynamoDB Streams consumer: each event's request already knows what the
counter needs (who replied, how long the customer waited, whether the buyer ordered lately), the
figures are fresh at the next refresh without a stream's lag, and the cost per message is bounded
and visible (at most two UpdateItems, on the agent's window and day). The counters are plain ADDs,
never in a transaction, so busy items never conflict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pynamodb.exceptions import PutError

from shopdesk import keys
from shopdesk.auth import SHOP_VISITOR_PREFIX, shop_visitor_id
from shopdesk.bot_stats import WINDOW_SECONDS, local_day, window_start
from shopdesk.clock import Clock, iso, parse_iso
from shopdesk.models import (
    AgentDayModel,
    AgentWindowModel,
    BotStatsModel,
    OrderEventModel,
    OrderModel,
    SessionModel,
    ShopDayModel,
)
from shopdesk.repositories import BATCH_LIMIT, batch_items

if TYPE_CHECKING:
    from shopdesk.orders import Order

WINDOW_KEEP = timedelta(days=2)
INQUIRY_LOOKBACK = timedelta(days=21)


class Metrics:
    def __init__(
        self,
        clock: Clock,
        timezone: Callable[[], str],
        guided_window: Callable[[], timedelta],
    ) -> None:
        self._clock = clock
        self._timezone = timezone  # callables: the store's settings can change while a container lives
        self._guided_window = guided_window

    def today(self) -> str:
        return local_day(self._clock.now(), self._timezone())

    # --- events ----------------------------------------------------------------------------------

    def consulted(self, visitor_id: str) -> None:
        """A customer's first words in a conversation: an inquiring buyer unless they ordered lately.

        Orders are listed by the visitor a shop-signed buyer becomes; an anonymous visitor has none.
        """
        recent = self._clock.now() - INQUIRY_LOOKBACK
        if visitor_id.startswith(SHOP_VISITOR_PREFIX) and self._ordered_since(visitor_id, recent):
            return
        ShopDayModel(keys.SHOP_STATS_PK, keys.stats_day_sk(self.today())).update(
            actions=[ShopDayModel.inquiring.add({visitor_id})]
        )

    def agent_replied(self, agent_id: str, visitor_id: str, waiting_since: str | None) -> None:
        """An agent's reply: the buyer is one of its receptions today (a set, so once each), and an
        answered wait adds its response time to the agent's current window."""
        now = self._clock.now()
        AgentDayModel(keys.agent_stats_pk(agent_id), keys.stats_day_sk(self.today())).update(
            actions=[AgentDayModel.buyers.add({visitor_id})]
        )
        if waiting_since:
            waited_ms = max(0, int((now - parse_iso(waiting_since)).total_seconds() * 1000))
            window = AgentWindowModel(keys.agent_stats_pk(agent_id), keys.stats_window_sk(iso(window_start(now))))
            window.update(
                actions=[
                    AgentWindowModel.response_ms.add(waited_ms),
                    AgentWindowModel.responses.add(1),
                    AgentWindowModel.expires_at.set(int((now + WINDOW_KEEP).timestamp())),
                ]
            )

    def paid(self, order: Order, sessions: Callable[[str], Iterable[SessionModel]]) -> str | None:
        """A payment after an agent served the buyer within the store's window is that agent's guided sale.

        Counted once per order: a marker item beside the order claims it, whatever events follow.
        Returns the agent credited, if any.
        """
        if not order.paid_at or not order.buyer_id:
            return None
        paid_at = parse_iso(order.paid_at)
        visitor_id = shop_visitor_id(order.buyer_id)
        agent_id = self._served_by(sessions(visitor_id), paid_at - self._guided_window(), paid_at)
        if agent_id is None:
            return None
        marker = OrderEventModel(
            keys.order_pk(order.order_number), keys.GUIDED_SK, type="guided", received_at=iso(self._clock.now())
        )
        try:
            marker.save(condition=OrderEventModel.pk.does_not_exist())
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return None
            raise
        day = local_day(paid_at, self._timezone())
        ShopDayModel(keys.SHOP_STATS_PK, keys.stats_day_sk(day)).update(
            actions=[
                ShopDayModel.guided_amount_cents.add(order.amount_cents),
                ShopDayModel.guided_buyers.add({visitor_id}),
            ]
        )
        AgentDayModel(keys.agent_stats_pk(agent_id), keys.stats_day_sk(day)).update(
            actions=[
                AgentDayModel.guided_amount_cents.add(order.amount_cents),
                AgentDayModel.guided_buyers.add({visitor_id}),
            ]
        )
        return agent_id

    # --- reading (the aggregator: one BatchGetItem per 100 items, whatever the history) ----------

    def read(self, agent_ids: Iterable[str], day: str, window: datetime) -> Counters:
        agents = list(dict.fromkeys(agent_ids))
        wanted = [(keys.agent_stats_pk(a), keys.stats_day_sk(day)) for a in agents]
        wanted += [(keys.agent_stats_pk(a), keys.stats_window_sk(iso(window))) for a in agents]
        wanted.append((keys.SHOP_STATS_PK, keys.stats_day_sk(day)))
        wanted.append((keys.bot_stats_pk("STORE"), keys.stats_day_sk(day)))
        counters = Counters()
        for start in range(0, len(wanted), BATCH_LIMIT):
            for raw in batch_items(wanted[start : start + BATCH_LIMIT]):
                pk, sk = raw["pk"]["S"], raw["sk"]["S"]
                if pk == keys.SHOP_STATS_PK:
                    counters.shop = ShopDayModel.from_raw_data(raw)
                elif pk == keys.bot_stats_pk("STORE"):
                    counters.bot = BotStatsModel.from_raw_data(raw)
                elif sk.startswith("W#"):
                    counters.windows[pk.removeprefix("STATS#AGENT#")] = AgentWindowModel.from_raw_data(raw)
                else:
                    counters.days[pk.removeprefix("STATS#AGENT#")] = AgentDayModel.from_raw_data(raw)
        return counters

    @staticmethod
    def previous_window(now: datetime) -> datetime:
        """The last complete 3-minute window: the one a refresh reports."""
        return window_start(now) - timedelta(seconds=WINDOW_SECONDS)

    # --- helpers ---------------------------------------------------------------------------------

    @staticmethod
    def _ordered_since(visitor_id: str, since: datetime) -> bool:
        found = OrderModel.by_buyer.query(keys.buyer_orders_gsi(visitor_id), OrderModel.gsi1sk >= iso(since), limit=1)
        return any(True for _ in found)

    @staticmethod
    def _served_by(sessions: Iterable[SessionModel], start: datetime, end: datetime) -> str | None:
        """The agent of the buyer's latest conversation assigned within [start, end]."""
        for session in sessions:
            if session.agent_id and session.assigned_at and start <= parse_iso(session.assigned_at) <= end:
                return session.agent_id
        return None


class Counters:
    """What the aggregator read: each agent's day and previous window, the shop's and the bot's day."""

    def __init__(self) -> None:
        self.days: dict[str, AgentDayModel] = {}
        self.windows: dict[str, AgentWindowModel] = {}
        self.shop: ShopDayModel | None = None
        self.bot: BotStatsModel | None = None  # the bot's day: the buyers it replied to
