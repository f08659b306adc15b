"""Orders from the shop's backend: signed webhook events, CSV exports, and what the bot shows of them."""

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from shopdesk.orders import (
    CSV_COLUMNS,
    BadSignature,
    CsvOrderError,
    CsvOrderSource,
    InvalidOrderEvent,
    Order,
    parse_order_event,
    parse_orders_csv,
    sign,
    verify_signature,
)

pytestmark = pytest.mark.unit

SECRET = b"order-webhook-secret-of-32-bytes!"
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
STAMP = str(int(NOW.timestamp()))
BODY = b'{"event_id":"e1"}'
HEADER = ",".join(CSV_COLUMNS)


def event() -> dict[str, Any]:
    return copy.deepcopy(
        {
            "event_id": "evt-1",
            "type": "order.shipped",
            "occurred_at": "2026-11-25T08:00:00Z",
            "order": {
                "order_number": "SD20261125001",
                "status": "shipped",
                "buyer_id": "v-1",
                "amount_cents": 12900,
                "items": ["T恤", "袜子"],
                "carrier": "顺丰",
                "tracking_number": "SF1234567890",
                "latest_event": "已到达上海转运中心",
                "updated_at": "2026-11-25T08:00:00.5Z",
            },
        }
    )


def csv_bytes(*rows: str, bom: bool = False) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode("utf-8-sig" if bom else "utf-8")


def csv_errors(data: bytes) -> list[dict[str, Any]]:
    with pytest.raises(CsvOrderError) as raised:
        parse_orders_csv(data)
    return raised.value.errors


def test_a_signed_body_verifies():
    # Given a body signed now
    signature = sign(SECRET, STAMP, BODY)
    # Then it has the documented form and verifies within the tolerance
    assert signature.startswith("sha256=") and len(signature) == len("sha256=") + 64
    verify_signature(SECRET, STAMP, BODY, signature, NOW + timedelta(minutes=4))


@pytest.mark.parametrize(
    ("timestamp", "body", "signature", "reason"),
    [
        (STAMP, BODY, "", "missing"),
        ("", BODY, sign(SECRET, STAMP, BODY), "missing"),
        (STAMP, BODY + b" ", sign(SECRET, STAMP, BODY), "mismatch"),
        (STAMP, BODY, sign(b"another-secret", STAMP, BODY), "mismatch"),
        (STAMP, BODY, "sha256=短", "mismatch"),
        (str(int(NOW.timestamp()) - 301), BODY, sign(SECRET, str(int(NOW.timestamp()) - 301), BODY), "stale"),
        (str(int(NOW.timestamp()) + 301), BODY, sign(SECRET, str(int(NOW.timestamp()) + 301), BODY), "stale"),
        ("2026-11-25T10:00:00Z", BODY, sign(SECRET, "2026-11-25T10:00:00Z", BODY), "stale"),
    ],
    ids=["no-signature", "no-timestamp", "body-changed", "other-secret", "non-ascii", "old", "future", "not-unix"],
)
def test_a_bad_signature_is_refused_with_its_reason(timestamp: str, body: bytes, signature: str, reason: str):
    # Given a request whose signature is absent, wrong, or made outside the five-minute window
    # When it is verified, Then it is refused and says why
    with pytest.raises(BadSignature) as raised:
        verify_signature(SECRET, timestamp, body, signature, NOW)
    assert raised.value.reason == reason


def test_a_replayed_timestamp_cannot_be_swapped_for_a_fresh_one():
    # Given a captured request signed ten minutes ago
    old = str(int(NOW.timestamp()) - 600)
    signature = sign(SECRET, old, BODY)
    # When it is replayed with a fresh timestamp header, Then the signature no longer matches
    with pytest.raises(BadSignature) as raised:
        verify_signature(SECRET, STAMP, BODY, signature, NOW)
    assert raised.value.reason == "mismatch"


def test_an_empty_secret_signs_nothing():
    # Given a store whose secret is unset, Then nothing can be signed or verified with it
    with pytest.raises(ValueError, match="empty secret"):
        verify_signature(b"", STAMP, BODY, "sha256=00", NOW)


def test_a_valid_event_becomes_an_order_event():
    # When a complete shipped event is parsed
    parsed = parse_order_event(event())
    # Then its order carries every field, with timestamps in the store's own form
    assert parsed.event_id == "evt-1" and parsed.type == "order.shipped"
    assert parsed.occurred_at == "2026-11-25T08:00:00.000Z"
    assert parsed.order == Order(
        order_number="SD20261125001",
        status="shipped",
        buyer_id="v-1",
        amount_cents=12900,
        items=("T恤", "袜子"),
        carrier="顺丰",
        tracking_number="SF1234567890",
        latest_event="已到达上海转运中心",
        updated_at="2026-11-25T08:00:00.500Z",
    )


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("event_id",), None, "event_id"),
        (("event_id",), " ", "event_id"),
        (("type",), "order.lost", "type"),
        (("occurred_at",), "2026-11-25T08:00:00+08:00", "occurred_at"),
        (("occurred_at",), "2026-02-30T08:00:00Z", "occurred_at"),
        (("order",), "SD20261125001", "order"),
        (("extra",), 1, "extra"),
        (("order", "status"), "lost", "order.status"),
        (("order", "order_number"), "SD12", "order.order_number"),
        (("order", "order_number"), "SD2026 1125", "order.order_number"),
        (("order", "order_number"), "S" * 41, "order.order_number"),
        (("order", "amount_cents"), -1, "order.amount_cents"),
        (("order", "amount_cents"), "12900", "order.amount_cents"),
        (("order", "amount_cents"), True, "order.amount_cents"),
        (("order", "amount_cents"), 12.5, "order.amount_cents"),
        (("order", "items"), "T恤", "order.items"),
        (("order", "items"), ["x" * 201], "order.items"),
        (("order", "latest_event"), "到" * 501, "order.latest_event"),
        (("order", "carrier"), 7, "order.carrier"),
        (("order", "paid_at"), "2026-11-25 08:00:00", "order.paid_at"),
        (("order", "trackingNumber"), "SF1", "order.trackingNumber"),
    ],
)
def test_an_invalid_event_names_the_field(path: tuple[str, ...], value: Any, field: str):
    # Given a valid event with one field made wrong
    payload = event()
    *parents, key = path
    target = payload
    for parent in parents:
        target = target[parent]
    target[key] = value
    # When it is parsed, Then it is refused naming that field
    with pytest.raises(InvalidOrderEvent) as raised:
        parse_order_event(payload)
    assert raised.value.field == field


def test_null_optional_fields_count_as_absent():
    # Given an unpaid order whose backend sends nulls for what it does not have yet
    payload = event()
    payload["order"].update(status="pending_payment", carrier=None, tracking_number=None, paid_at=None, items=None)
    # When it is parsed, Then those fields take their defaults
    order = parse_order_event(payload).order
    assert (order.carrier, order.tracking_number, order.paid_at, order.items) == ("", "", "", ())


def test_a_missing_status_is_refused():
    # Given an event whose order has no status
    payload = event()
    del payload["order"]["status"]
    # When it is parsed, Then the status is named
    with pytest.raises(InvalidOrderEvent) as raised:
        parse_order_event(payload)
    assert raised.value.field == "order.status"


@pytest.mark.parametrize("bom", [False, True], ids=["plain", "bom"])
def test_a_good_csv_gives_every_order(bom: bool):
    # Given an export with and without a byte-order mark, with a blank line between rows
    data = csv_bytes(
        "SD20261125001,shipped,v-1,12900,T恤 | 袜子,顺丰,SF1234567890,已到达上海转运中心,2026-11-25T08:00:00Z,,",
        "",
        "SD20261125002,paid,,,,,,,,2026-11-25T07:00:00Z,2026-11-25T06:59:00Z",
        bom=bom,
    )
    # When it is parsed
    orders = parse_orders_csv(data)
    # Then every row becomes an order, items split on "|" and defaults for empty cells
    assert [order.order_number for order in orders] == ["SD20261125001", "SD20261125002"]
    assert orders[0].items == ("T恤", "袜子") and orders[0].amount_cents == 12900
    assert orders[1] == Order(
        "SD20261125002", "paid", paid_at="2026-11-25T07:00:00.000Z", placed_at="2026-11-25T06:59:00.000Z"
    )


def test_every_bad_csv_row_is_reported_by_row_number():
    # Given good rows around bad ones; the header is row 1
    data = csv_bytes(
        "SD20261125001,shipped,,100,,,,,,,",
        "SD20261125002,lost,,12.5,,,,,,,",
        "SD20261125003,paid,,,,,,,",
        "SD20261125001,paid,,,,,,,,,",
        "SD20261125004,paid,,,,,,,2026-11-25T08:00:00,,",
    )
    # When it is parsed, Then nothing is returned and each problem names its row and column
    errors = csv_errors(data)
    assert [(error["row"], error["field"]) for error in errors] == [
        (3, "amount_cents"),
        (3, "status"),
        (4, ""),
        (5, "order_number"),
        (6, "updated_at"),
    ]
    assert errors[2]["message"] == "expected 11 columns, found 9"
    assert errors[3]["message"] == "duplicate of row 2"


def test_a_bad_header_is_reported_on_row_1_before_any_row():
    # Given an export with a renamed column and a bad data row
    data = HEADER.replace("carrier", "courier").encode() + b"\nSD1,lost\n"
    # When it is parsed, Then only the header's problems are reported, as row 1
    assert csv_errors(data) == [
        {"row": 1, "field": "courier", "message": "unknown column"},
        {"row": 1, "field": "carrier", "message": "missing column"},
    ]


def test_columns_may_come_in_any_order():
    # Given an export whose columns are reordered
    columns = list(reversed(CSV_COLUMNS))
    row = {"order_number": "SD20261125001", "status": "delivered"}
    data = "\n".join([",".join(columns), ",".join(row.get(name, "") for name in columns)]).encode()
    # When it is parsed, Then values are read by column name
    assert parse_orders_csv(data) == [Order("SD20261125001", "delivered")]


def test_a_file_that_is_not_utf8_is_refused_at_its_row():
    # Given a GBK-encoded row after a UTF-8 header
    data = csv_bytes() + "SD20261125001,paid,,,顺丰,,,,,,".encode("gbk")
    # When it is parsed, Then the encoding problem is reported at row 2
    assert csv_errors(data) == [{"row": 2, "field": "", "message": "the file is not UTF-8"}]


def test_an_unreadable_csv_keeps_the_problems_found_before_it():
    # Given a bad row, then a field past the csv module's size limit
    data = csv_bytes("SD20261125001,lost,,,,,,,,,", "SD20261125002,paid,," + "x" * 200_000 + ",,,,,,,,")
    # When it is parsed, Then both are reported, each at its row
    assert [(error["row"], error["field"]) for error in csv_errors(data)] == [(2, "status"), (3, "")]


def test_the_csv_source_finds_orders_by_number():
    # Given a source built from a parsed export
    source = CsvOrderSource(parse_orders_csv(csv_bytes("SD20261125001,shipped,,,,,,,,,")))
    # When orders are looked up, Then a listed number is found, also with spaces around it, and others are not
    assert len(source) == 1
    found = source.find(" SD20261125001 ")
    assert found is not None and found.status == "shipped"
    assert source.find("SD20261125009") is None


def test_the_csv_source_refuses_a_number_listed_twice():
    # Given two orders with the same number, Then building a source fails rather than pick one
    with pytest.raises(ValueError, match="twice"):
        CsvOrderSource([Order("SD20261125001", "paid"), Order("SD20261125001", "shipped")])


def test_shipping_text_tells_where_the_parcel_is():
    # Given a shipped order with its latest tracking event
    order = Order(
        "SD20261125001", "in_transit", carrier="顺丰", tracking_number="SF1234567890", latest_event="已到达上海转运中心"
    )
    # Then the text names carrier, number and event, and the status reads in Chinese
    assert order.shipping_text() == "顺丰 SF1234567890：已到达上海转运中心"
    assert order.status_text() == "运输中"


@pytest.mark.parametrize(
    "order",
    [
        Order("SD20261125001", "paid", carrier="顺丰", tracking_number="SF1"),
        Order("SD20261125001", "shipped", latest_event="已揽收"),
    ],
    ids=["not-yet-shipped", "no-parcel-details"],
)
def test_shipping_text_is_empty_without_a_parcel(order: Order):
    # Given an order not yet shipped, or one without carrier and number
    # When its shipping text is built, Then it is empty rather than half a sentence
    assert order.shipping_text() == ""


def test_template_data_is_text_for_the_customer_without_the_buyer_id():
    # Given a shipped order
    order = Order("SD20261125001", "shipped", buyer_id="v-1", amount_cents=12905, items=("T恤", "袜子"), carrier="顺丰")
    # When it is handed to flow templates
    data = order.template_data()
    # Then everything is text a reply can show, and the internal buyer id is not among it
    assert data["status_text"] == "已发货" and data["shipping_text"] == "顺丰"
    assert data["amount"] == "¥129.05" and data["items"] == "T恤、袜子"
    assert "v-1" not in data.values()
    assert all(isinstance(value, str) for value in data.values())
