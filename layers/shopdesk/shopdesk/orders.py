"""Orders as the bot sees them: signed order events from the shop's backend, and orders from a CSV export.

Everything here is pure; storing events and reading uploads happen elsewhere.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from shopdesk.clock import iso

ORDER_STATUSES = (
    "pending_payment",
    "paid",
    "shipped",
    "in_transit",
    "delivered",
    "completed",
    "cancelled",
    "refunding",
    "refunded",
)
STATUS_TEXT: dict[str, str] = {
    "pending_payment": "待付款",
    "paid": "已付款，待发货",
    "shipped": "已发货",
    "in_transit": "运输中",
    "delivered": "已签收",
    "completed": "已完成",
    "cancelled": "已取消",
    "refunding": "退款中",
    "refunded": "已退款",
}
# Before these are left behind there is no parcel to tell the customer about.
_UNSHIPPED = frozenset({"pending_payment", "paid"})
EVENT_TYPES = ("order.placed", "order.paid", "order.shipped", "order.updated", "order.cancelled", "order.refunded")

SIGNATURE_HEADER = "X-ShopDesk-Signature"
TIMESTAMP_HEADER = "X-ShopDesk-Timestamp"

CSV_COLUMNS = (
    "order_number",
    "status",
    "buyer_id",
    "amount_cents",
    "items",
    "carrier",
    "tracking_number",
    "latest_event",
    "updated_at",
    "paid_at",
    "placed_at",
)
ITEM_SEPARATOR = "|"

_ORDER_NUMBER = re.compile(r"[A-Za-z0-9-]{6,40}")
_UTC_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")
# Caps keep one order small enough for a session item and a chat card.
TEXT_LIMITS = {"event_id": 128, "buyer_id": 128, "carrier": 64, "tracking_number": 64, "latest_event": 500}
MAX_ITEMS = 100
MAX_ITEM_CHARS = 200
_TIMESTAMPS = ("updated_at", "paid_at", "placed_at")


@dataclass(frozen=True)
class Order:
    order_number: str
    status: str
    buyer_id: str = ""
    amount_cents: int = 0
    items: tuple[str, ...] = ()
    carrier: str = ""
    tracking_number: str = ""
    latest_event: str = ""
    updated_at: str = ""
    paid_at: str = ""
    placed_at: str = ""

    def status_text(self) -> str:
        return STATUS_TEXT.get(self.status, self.status)

    def shipping_text(self) -> str:
        """E.g. "顺丰 SF1234567890：已到达上海转运中心"; empty while there is no parcel to track."""
        parcel = " ".join(part for part in (self.carrier, self.tracking_number) if part)
        if self.status in _UNSHIPPED or not parcel:
            return ""
        return f"{parcel}：{self.latest_event}" if self.latest_event else parcel

    def template_data(self) -> dict[str, str]:
        """What flow templates may show the customer; the buyer id stays internal."""
        return {
            "order_number": self.order_number,
            "status": self.status,
            "status_text": self.status_text(),
            "shipping_text": self.shipping_text(),
            "carrier": self.carrier,
            "tracking_number": self.tracking_number,
            "latest_event": self.latest_event,
            "amount": f"¥{self.amount_cents // 100}.{self.amount_cents % 100:02d}",
            "items": "、".join(self.items),
            "updated_at": self.updated_at,
            "paid_at": self.paid_at,
            "placed_at": self.placed_at,
        }


class OrderSource(Protocol):
    def find(self, order_number: str) -> Order | None: ...


class InvalidOrderEvent(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class OrderEvent:
    event_id: str
    type: str
    order: Order
    occurred_at: str


def parse_order_event(payload: Mapping[str, Any]) -> OrderEvent:
    """A webhook payload {"event_id", "type", "occurred_at", "order": {...}} checked field by field.

    Unknown fields are refused, so a misspelt one fails loudly instead of silently dropping data.
    Only the first problem is raised.
    Timestamps come back in the store's own form (clock.iso), so they sort with everything else.
    """
    problems = [(key, "unknown field") for key in sorted(set(payload) - {"event_id", "type", "occurred_at", "order"})]
    event_id = _text(payload, "event_id", problems, required=True)
    kind = payload.get("type")
    if kind not in EVENT_TYPES:
        problems.append(("type", f"must be one of {', '.join(EVENT_TYPES)}"))
    occurred_at = _timestamp(payload.get("occurred_at"), "occurred_at", problems, required=True)
    fields = payload.get("order")
    order = None
    if isinstance(fields, Mapping):
        order, order_problems = _order(fields)
        problems += [(f"order.{name}", message) for name, message in order_problems]
    else:
        problems.append(("order", "must be an object"))
    if problems or order is None:  # _order gives None only with problems
        raise InvalidOrderEvent(*problems[0])
    return OrderEvent(event_id, str(kind), order, occurred_at)


class BadSignature(ValueError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason  # "missing" | "stale" | "mismatch"


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The timestamp is signed with the body, so a captured request cannot be replayed later under a new one."""
    if not secret:
        raise ValueError("an empty secret signs nothing")
    return "sha256=" + hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def verify_signature(
    secret: bytes,
    timestamp: str,
    body: bytes,
    signature: str,
    now: datetime,
    tolerance: timedelta = timedelta(minutes=5),
) -> None:
    """Raises BadSignature unless the body was signed with the secret at a time within tolerance of now.

    The timestamp is Unix seconds; one too far in the future is as suspect as one too old.
    """
    if not timestamp or not signature:
        raise BadSignature("missing", f"{SIGNATURE_HEADER} and {TIMESTAMP_HEADER} are both required")
    if not timestamp.isascii() or not timestamp.isdigit():
        raise BadSignature("stale", f"{TIMESTAMP_HEADER} must be Unix seconds")
    try:
        signed_at = datetime.fromtimestamp(int(timestamp), UTC)
    except (OverflowError, ValueError, OSError):
        raise BadSignature("stale", f"{TIMESTAMP_HEADER} is out of range") from None
    if abs(now - signed_at) > tolerance:
        raise BadSignature("stale", f"{TIMESTAMP_HEADER} is more than {tolerance} away from now")
    if not hmac.compare_digest(sign(secret, timestamp, body).encode(), signature.encode()):
        raise BadSignature("mismatch", "the signature does not match the body")


class CsvOrderError(ValueError):
    """Every problem of an upload: {"row": 1-based, the header being row 1, "field": column, "message": ...}."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} problem(s) in the orders CSV")
        self.errors = errors


def parse_orders_csv(data: bytes) -> list[Order]:
    """All the orders of an export, or CsvOrderError with every bad row; never part of a file."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        row = data[: error.start].count(b"\n") + 1
        raise CsvOrderError([{"row": row, "field": "", "message": "the file is not UTF-8"}]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    errors: list[dict[str, Any]] = []
    orders: list[Order] = []
    first_row: dict[str, int] = {}
    row = 0  # the last row read, so a reader failure names the one after it
    try:
        columns = [name.strip() for name in next(reader, [])]
        if header_errors := _header_problems(columns):
            raise CsvOrderError(header_errors)
        row = 1
        for row, values in enumerate(reader, start=2):
            if not any(value.strip() for value in values):
                continue
            if len(values) != len(columns):
                errors.append(_problem(row, "", f"expected {len(columns)} columns, found {len(values)}"))
                continue
            fields, problems = _csv_fields(dict(zip(columns, values, strict=True)))
            order, order_problems = _order(fields)
            errors += [_problem(row, name, message) for name, message in problems + order_problems]
            if order is None:
                continue
            if order.order_number in first_row:
                errors.append(_problem(row, "order_number", f"duplicate of row {first_row[order.order_number]}"))
                continue
            first_row[order.order_number] = row
            orders.append(order)
    except csv.Error as error:
        errors.append(_problem(row + 1, "", f"unreadable CSV: {error}"))
    if errors:
        raise CsvOrderError(errors)
    return orders


class CsvOrderSource:
    """Orders from an uploaded CSV export, for shops that do not send order events."""

    def __init__(self, orders: Iterable[Order]) -> None:
        self._orders: dict[str, Order] = {}
        for order in orders:
            if order.order_number in self._orders:
                raise ValueError(f"order {order.order_number} is listed twice")
            self._orders[order.order_number] = order

    def find(self, order_number: str) -> Order | None:
        return self._orders.get(order_number.strip())

    def __len__(self) -> int:
        return len(self._orders)


def _order(fields: Mapping[str, Any]) -> tuple[Order | None, list[tuple[str, str]]]:
    """An order from typed fields, or the (field, message) problems that keep it from being one.

    A null counts as absent, as backends send for an order not yet paid or shipped.
    """
    problems = [(key, "unknown field") for key in sorted(set(fields) - set(CSV_COLUMNS))]
    fields = {key: value for key, value in fields.items() if value is not None}
    number = fields.get("order_number")
    if not (isinstance(number, str) and _ORDER_NUMBER.fullmatch(number)):
        problems.append(("order_number", "must be 6–40 letters, digits or -"))
    status = fields.get("status")
    if status not in ORDER_STATUSES:
        problems.append(("status", f"must be one of {', '.join(ORDER_STATUSES)}"))
    amount = fields.get("amount_cents", 0)
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        problems.append(("amount_cents", "must be a whole number of cents ≥ 0"))
    items = _items(fields.get("items", []), problems)
    texts = {key: _text(fields, key, problems) for key in ("buyer_id", "carrier", "tracking_number", "latest_event")}
    times = {key: _timestamp(fields.get(key, ""), key, problems) for key in _TIMESTAMPS}
    if problems:
        return None, problems
    return Order(str(number), str(status), amount_cents=amount, items=items, **texts, **times), []


def _text(fields: Mapping[str, Any], key: str, problems: list[tuple[str, str]], required: bool = False) -> str:
    value = fields.get(key, "")
    if not isinstance(value, str):
        problems.append((key, "must be a string"))
        return ""
    if required and not value.strip():
        problems.append((key, "is required"))
    elif len(value) > TEXT_LIMITS[key]:
        problems.append((key, f"must be at most {TEXT_LIMITS[key]} characters"))
    return value


def _items(value: Any, problems: list[tuple[str, str]]) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) and item.strip() for item in value):
        problems.append(("items", "must be a list of non-empty strings"))
        return ()
    if len(value) > MAX_ITEMS or any(len(item) > MAX_ITEM_CHARS for item in value):
        problems.append(("items", f"at most {MAX_ITEMS} items of at most {MAX_ITEM_CHARS} characters"))
    return tuple(value)


def _timestamp(value: Any, key: str, problems: list[tuple[str, str]], required: bool = False) -> str:
    """An ISO-8601 UTC time ending in Z, in clock.iso form; empty stays empty unless required."""
    if value == "" and not required:
        return ""
    if isinstance(value, str) and _UTC_TIMESTAMP.fullmatch(value):
        try:
            return iso(datetime.fromisoformat(value))
        except ValueError:
            pass
    problems.append((key, "must be an ISO-8601 UTC time such as 2026-11-25T08:00:00Z"))
    return ""


def _csv_fields(row: Mapping[str, str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """A CSV row's text as the typed fields an event carries: whole-number cents, a list of items."""
    fields: dict[str, Any] = {key: value.strip() for key, value in row.items()}
    amount = fields["amount_cents"] or "0"
    # The length cap also keeps int() clear of its limit on huge digit strings.
    whole = amount.isascii() and amount.isdigit() and len(amount) <= 15
    fields["amount_cents"] = int(amount) if whole else 0
    fields["items"] = [item.strip() for item in fields["items"].split(ITEM_SEPARATOR) if item.strip()]
    return fields, [] if whole else [("amount_cents", "must be a whole number of cents ≥ 0")]


def _header_problems(columns: list[str]) -> list[dict[str, Any]]:
    problems = [_problem(1, name, "unknown column") for name in columns if name not in CSV_COLUMNS]
    problems += [_problem(1, name, "missing column") for name in CSV_COLUMNS if name not in columns]
    problems += [_problem(1, name, "repeated column") for name in sorted(set(columns)) if columns.count(name) > 1]
    return problems


def _problem(row: int, field: str, message: str) -> dict[str, Any]:
    return {"row": row, "field": field, "message": message}
