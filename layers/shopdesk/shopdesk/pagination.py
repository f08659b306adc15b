"""Opaque cursors over DynamoDB's LastEvaluatedKey."""

from __future__ import annotations

import base64
import json
from typing import Any

from shopdesk.errors import ValidationFailed


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError as error:
        raise ValidationFailed("The cursor is not valid.", field="cursor") from error
    if not isinstance(value, dict):
        raise ValidationFailed("The cursor is not valid.", field="cursor")
    return value
