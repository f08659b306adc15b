"""Prints the REST API's OpenAPI document, merged from every REST function's resolver.

Run: make openapi (writes docs/openapi.json). The handlers are imported with placeholder settings:
generating the schema touches no AWS service.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from infra.local.handlers import load_handler, module_name
from infra.local.template import load_template

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER_ENV = {
    "STORE_ID": "demo",
    "TABLE_NAME": "shopdesk",
    "USER_POOL_ID": "ap-southeast-1_example",
    "USER_POOL_CLIENT_ID": "example",
    "STORE_SECRET_ID": "example",
    "UPLOADS_BUCKET": "example",
    "REMINDER_QUEUE_URL": "https://sqs.example/queue",
    "WS_CALLBACK_URL": "https://ws.example/prod",
    "AWS_DEFAULT_REGION": "ap-southeast-1",
}


def rest_functions() -> dict[str, Any]:
    """Each REST function's resolver, keyed by the template's logical id."""
    template = load_template(ROOT / "template.yaml")
    for name, value in PLACEHOLDER_ENV.items():
        os.environ.setdefault(name, value)
    resolvers = {}
    for function_id, spec in template.functions.items():
        if not any(event.type == "Api" for event in spec.events.values()):
            continue
        for layer in template.layer_dirs(function_id):
            if str(layer) not in sys.path:
                sys.path.append(str(layer))
        load_handler(ROOT / str(spec.code_uri), str(spec.handler), module_name(function_id))
        resolvers[function_id] = sys.modules[module_name(function_id)].app
    return resolvers


def document() -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for resolver in rest_functions().values():
        schema = json.loads(
            resolver.get_openapi_json_schema(
                title="ShopDesk REST API",
                version="1.0.0",
                description="Staff and visitor endpoints of one store. Send `Authorization: Bearer <token>`.",
            )
        )
        if not merged:
            merged = schema
            continue
        for path, operations in schema.get("paths", {}).items():
            merged["paths"].setdefault(path, {}).update(operations)
        merged.setdefault("components", {}).setdefault("schemas", {}).update(
            schema.get("components", {}).get("schemas", {})
        )
    merged["paths"] = dict(sorted(merged["paths"].items()))
    return merged


if __name__ == "__main__":
    print(json.dumps(document(), ensure_ascii=False, indent=2))
