"""Where the bot finds a customer's order: the orders table fed by the shop's signed order events,
or a CSV export the store uploaded. Both are `orders.OrderSource`s; the store picks one."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import PutError

from shopdesk import keys
from shopdesk.artifacts import Artifacts, Latest
from shopdesk.auth import shop_visitor_id
from shopdesk.clock import Clock, iso
from shopdesk.db import TransactionFailed, transaction
from shopdesk.errors import Replayed
from shopdesk.models import BotConfigModel, OrderEventModel, OrderModel, SignatureSeenModel
from shopdesk.orders import CsvOrderSource, Order, OrderEvent, OrderSource, parse_orders_csv
from shopdesk.repositories import OrderRepository

ORDERS_CSV_PREFIX = "orders/"


def order_of(item: OrderModel) -> Order:
    return Order(
        order_number=item.order_number,
        status=item.status,
        buyer_id=item.buyer_id,
        amount_cents=int(item.amount_cents),
        items=tuple(item.items or ()),
        carrier=item.carrier,
        tracking_number=item.tracking_number,
        latest_event=item.latest_event,
        updated_at=item.updated_at,
        paid_at=item.paid_at,
        placed_at=item.placed_at,
    )


def order_view(order: Order) -> dict[str, Any]:
    return {
        "order_number": order.order_number,
        "status": order.status,
        "status_text": order.status_text(),
        "shipping_text": order.shipping_text(),
        "items": list(order.items),
        "amount_cents": order.amount_cents,
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "latest_event": order.latest_event,
        "updated_at": order.updated_at,
    }


class TableOrderSource:
    def __init__(self, repo: OrderRepository) -> None:
        self._repo = repo

    def find(self, order_number: str) -> Order | None:
        item = self._repo.get(order_number)
        return order_of(item) if item is not None else None


class OrderBook:
    def __init__(
        self, clock: Clock, repo: OrderRepository, artifacts: Artifacts, paid: Callable[[Order], object]
    ) -> None:
        self._clock = clock
        self._repo = repo
        self._artifacts = artifacts
        self._paid = paid  # guided sales: a paid order may be credited to the agent who served the buyer
        self._csv: Latest[CsvOrderSource] = Latest()

    def source(self, config: BotConfigModel) -> OrderSource:
        if config.order_source == "csv" and config.orders_csv_key:
            key = config.orders_csv_key
            return self._csv.get(key, lambda: CsvOrderSource(parse_orders_csv(self._artifacts.get_bytes(key))))
        return TableOrderSource(self._repo)

    def apply(self, event: OrderEvent) -> bool:
        """Applies an order event once; a redelivery or an older event than the stored one changes nothing."""
        order = event.order
        item = OrderModel(
            keys.order_pk(order.order_number),
            keys.META_SK,
            order_number=order.order_number,
            status=order.status,
            buyer_id=order.buyer_id,
            amount_cents=order.amount_cents,
            items=list(order.items),
            carrier=order.carrier,
            tracking_number=order.tracking_number,
            latest_event=order.latest_event,
            updated_at=order.updated_at or event.occurred_at,
            paid_at=order.paid_at,
            placed_at=order.placed_at,
            occurred_at=event.occurred_at,
        )
        if order.buyer_id:
            # Listed by the visitor the buyer becomes, so a chat finds its buyer's orders without a lookup.
            item.gsi1pk = keys.buyer_orders_gsi(shop_visitor_id(order.buyer_id))
            item.gsi1sk = f"{order.placed_at or event.occurred_at}#{order.order_number}"
        marker = OrderEventModel(
            keys.order_pk(order.order_number),
            keys.order_event_sk(event.event_id),
            type=event.type,
            received_at=iso(self._clock.now()),
        )
        try:
            with transaction() as tx:
                tx.put("event", marker, condition=OrderEventModel.pk.does_not_exist())
                tx.put(
                    "order",
                    item,
                    condition=OrderModel.pk.does_not_exist() | (OrderModel.occurred_at <= event.occurred_at),
                )
        except TransactionFailed as failure:
            if failure.failed_on("event"):
                return False
            if failure.failed_on("order"):
                self._remember(marker)  # older than what we hold: recorded as seen, nothing else changes
                return False
            raise
        if order.paid_at:
            self._paid(order)
        return True

    def accept_signature(self, signature: str, valid_for: timedelta) -> None:
        """Each signed request counts once: a captured request sent again, even within its validity
        window, is refused (the shop re-signs a retry with a fresh timestamp)."""
        digest = hashlib.sha256(signature.encode()).hexdigest()
        expires = int((self._clock.now() + 2 * valid_for).timestamp())
        try:
            SignatureSeenModel(keys.signature_seen_pk(digest), keys.META_SK, expires_at=expires).save(
                condition=SignatureSeenModel.pk.does_not_exist()
            )
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                raise Replayed("This signed request was already received; sign a retry anew.") from error
            raise

    def save_csv(self, data: bytes) -> tuple[str, int]:
        """Checks the whole file, then keeps it as the store's order source."""
        orders = parse_orders_csv(data)
        key = f"{ORDERS_CSV_PREFIX}orders-{iso(self._clock.now())}.csv"
        self._artifacts.put_bytes(key, data, "text/csv")
        return key, len(orders)

    @staticmethod
    def _remember(marker: OrderEventModel) -> None:
        try:
            marker.save(condition=OrderEventModel.pk.does_not_exist())
        except PutError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
