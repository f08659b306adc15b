"""Orders: the shop backend's signed order events, and a store's CSV order export for the bot's lookups.

The events route takes no user token: the HMAC signature over timestamp and body is the credential.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import timedelta
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field
from shopdesk.container import Container
from shopdesk.errors import BadSignature, ImportRejected, InvalidJson, ValidationFailed
from shopdesk.http import create_app
from shopdesk.models import BotConfigModel
from shopdesk.orders import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    CsvOrderError,
    InvalidOrderEvent,
    parse_order_event,
    verify_signature,
)
from shopdesk.orders import BadSignature as SignatureRefused

logger = Logger()
metrics = Metrics()
container = Container()
# Public: the events route is authenticated by its signature; the CSV route checks the admin's token itself.
app = create_app(lambda: container, public=True)
MAX_CSV_BYTES = 5 * 1024 * 1024
ORDER_EVENTS_KEY = "order-events"
SIGNATURE_TOLERANCE = timedelta(minutes=5)


class OrdersCsv(BaseModel):
    content_base64: str = Field(min_length=1, max_length=MAX_CSV_BYTES * 4 // 3 + 4)


@app.post("/orders/events", summary="An order event from the shop's backend, HMAC-signed", tags=["orders"])
def order_event() -> tuple[dict[str, Any], int]:
    event = app.current_event
    body = (event.decoded_body or "").encode()
    headers = {name.lower(): value for name, value in (event.headers or {}).items()}
    signature = headers.get(SIGNATURE_HEADER.lower(), "")
    try:
        verify_signature(
            container.store_secret.derive(ORDER_EVENTS_KEY),
            headers.get(TIMESTAMP_HEADER.lower(), ""),
            body,
            signature,
            container.clock.now(),
            SIGNATURE_TOLERANCE,
        )
    except SignatureRefused as refused:
        raise BadSignature(str(refused), reason=refused.reason) from refused
    try:
        payload = json.loads(body)
    except json.JSONDecodeError as error:
        raise InvalidJson("The body is not valid JSON.") from error
    if not isinstance(payload, dict):
        raise ValidationFailed("The body must be a JSON object.", field="body")
    try:
        parsed = parse_order_event(payload)
    except InvalidOrderEvent as invalid:
        raise ValidationFailed(f"{invalid.field}: {invalid.message}", field=invalid.field) from invalid
    container.orders.accept_signature(signature, SIGNATURE_TOLERANCE)
    applied = container.orders.apply(parsed)
    metrics.add_metric(name="OrderEventsApplied", unit=MetricUnit.Count, value=1 if applied else 0)
    return {"event_id": parsed.event_id, "applied": applied}, 202


@app.post("/admin/orders/csv", summary="Use a CSV export as the bot's order source", tags=["orders"])
def orders_csv(body: OrdersCsv) -> dict[str, Any]:
    header = app.current_event.headers.get("Authorization")
    container.auth.authenticate(header, allow_visitors=False).require("admin")
    try:
        data = base64.b64decode(body.content_base64, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValidationFailed("content_base64 is not valid base64.", field="content_base64") from error
    try:
        key, count = container.orders.save_csv(data)
    except CsvOrderError as rejected:
        raise ImportRejected(
            f"{len(rejected.errors)} problem(s) in the file; nothing was imported.", errors=rejected.errors
        ) from rejected
    config = container.bot.config()
    config.update(actions=[BotConfigModel.orders_csv_key.set(key), BotConfigModel.order_source.set("csv")])
    return {"orders": count, "order_source": "csv"}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
