"""Orders reach the bot two ways: signed order events from the shop's backend, and a CSV export an admin
uploads. Both through their REST routes on moto, then looked up by the bot's order flow."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest

from tests.integration.conftest import World

pytestmark = pytest.mark.integration

ORDERS = "OrderFunction"


def order_event(order_number: str, status: str, occurred_at: str, event_id: str = "") -> dict[str, Any]:
    return {
        "event_id": event_id or f"evt-{order_number}-{status}",
        "type": "order.updated",
        "occurred_at": occurred_at,
        "order": {"order_number": order_number, "status": status, "buyer_id": "b-1", "carrier": "顺丰速运"},
    }


def post(world: World, payload: Any, minutes_ago: float = 0, key: bytes | None = None) -> tuple[int, Any]:
    """As the shop's backend does: HMAC-SHA256 over "{unix seconds}.{body}" with the store's order-events key."""
    from shopdesk.orders import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

    body = json.dumps(payload, ensure_ascii=False)
    timestamp = str(int((world.clock.now() - timedelta(minutes=minutes_ago)).timestamp()))
    secret = key if key is not None else world.container.store_secret.derive("order-events")
    headers = {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, timestamp, body.encode())}
    response = world.rest(ORDERS, "POST", "/orders/events", raw_body=body, headers=headers)
    return response["statusCode"], json.loads(response["body"])


def stored_status(world: World, order_number: str) -> str | None:
    found = world.container.orders.source(world.container.bot.config()).find(order_number)
    return found.status if found is not None else None


def test_a_signed_order_event_is_applied_once_a_replay_is_refused_and_an_older_one_never_wins(world: World) -> None:
    # Given the shop's backend signs its order events
    paid = order_event("SD20261125010", "paid", "2026-11-25T08:00:00.000Z")
    shipped = order_event("SD20261125010", "shipped", "2026-11-25T09:00:00.000Z")
    # When it posts the shipment, then the same signed request again, then a retry signed anew,
    # then the older payment arriving late
    assert post(world, shipped) == (202, {"event_id": shipped["event_id"], "applied": True})
    status, replayed = post(world, shipped)
    world.clock.advance(seconds=1)
    retried = post(world, shipped)
    late = post(world, paid)
    # Then the replay is refused, the retry and the late event change nothing, and the newest event stands
    assert status == 409 and replayed["code"] == "replayed", replayed
    assert retried == (202, {"event_id": shipped["event_id"], "applied": False})
    assert late[1]["applied"] is False
    assert stored_status(world, "SD20261125010") == "shipped"


def test_an_unsigned_stale_or_forged_event_is_refused_and_writes_nothing(world: World) -> None:
    # Given an order event
    payload = order_event("SD20261125011", "paid", "2026-11-25T08:00:00.000Z")
    # When it is signed with another key, or ten minutes ago, or not at all
    forged = post(world, payload, key=b"not the store's key")
    stale = post(world, payload, minutes_ago=10)
    unsigned = world.rest(ORDERS, "POST", "/orders/events", raw_body=json.dumps(payload))
    # Then each is refused with bad_signature and its reason, and no order is stored
    assert forged[0] == 401 and forged[1]["details"]["reason"] == "mismatch", forged
    assert stale[0] == 401 and stale[1]["details"]["reason"] == "stale", stale
    assert unsigned["statusCode"] == 401 and json.loads(unsigned["body"])["code"] == "bad_signature"
    assert stored_status(world, "SD20261125011") is None
    # When a signed event is malformed, it is refused with the field named
    status, body = post(world, {**payload, "type": "order.exploded"})
    assert status == 422 and body["details"]["field"] == "type", body
    assert stored_status(world, "SD20261125011") is None


def test_an_admin_makes_a_csv_export_the_order_source(world: World) -> None:
    # Given an admin and a leader
    admin = world.staff(role="admin")
    leader = world.staff(role="leader")
    from shopdesk.orders import CSV_COLUMNS

    header = ",".join(CSV_COLUMNS) + "\n"
    good = header + "SD20261125020,delivered,b-2,9900,卫衣 M,中通快递,ZT1,已签收,,,\n"
    bad = header + "SD20261125021,lost_in_space,,,,,,,,,\n,paid,,,,,,,,,\n"

    def upload(text: str) -> dict[str, str]:
        return {"content_base64": base64.b64encode(text.encode()).decode()}

    # When a leader tries, or the file has bad rows
    assert leader.call(ORDERS, "POST", "/admin/orders/csv", upload(good))[0] == 403
    status, body = admin.call(ORDERS, "POST", "/admin/orders/csv", upload(bad))
    # Then nothing changes, and every bad row is named
    assert status == 422 and {e["row"] for e in body["details"]["errors"]} == {2, 3}, body
    assert world.container.bot.config().order_source == "events"
    # When the admin uploads a good file
    status, body = admin.call(ORDERS, "POST", "/admin/orders/csv", upload(good))
    # Then the bot looks orders up in it
    assert status == 200 and body == {"orders": 1, "order_source": "csv"}, body
    assert stored_status(world, "SD20261125020") == "delivered"
