"""What the local stack reads from the real template.yaml: the routes it serves and the events it drives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.local.template import RateExpression, Template, load_template, resolve

pytestmark = pytest.mark.infra

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template(ROOT / "template.yaml")


def _params(template: Template) -> dict[str, Any]:
    given = {"StoreId": "demo", "StoreName": "x", "AlertEmail": "a@example.com"}
    return template.parameter_values(given, region="ap-southeast-1", account_id="123456789012")


def test_rest_routes_map_paths_to_functions(template: Template) -> None:
    # Given the template's single REST API
    api = template.rest_api
    assert api is not None
    routes = {(route.method, route.path): route.function for route in api.routes}
    # Then the documented endpoints go to the functions that own them
    assert routes[("POST", "/auth/login")] == "AuthFunction"
    assert routes[("POST", "/visitor/token")] == "AuthFunction"
    assert routes[("PATCH", "/admin/agents/{agent_id}")] == "AdminFunction"
    assert routes[("POST", "/sessions/{session_id}/accept")] == "AgentFunction"
    assert routes[("GET", "/sessions/{session_id}/messages")] == "VisitorFunction"
    assert routes[("GET", "/visitor/availability")] == "VisitorFunction"
    # And every path is a template API Gateway accepts
    assert all(route.path.startswith("/") and " " not in route.path for route in api.routes)


def test_rest_api_stage_and_cors(template: Template) -> None:
    api = template.rest_api
    assert api is not None
    assert resolve(api.stage_name, {}, {}, _params(template)) == "prod"
    assert api.cors is not None
    assert api.cors.allow_origin == "*"
    assert "Authorization" in (api.cors.allow_headers or "")


def test_websocket_routes_go_to_the_chat_socket_function(template: Template) -> None:
    api = template.websocket_api
    assert api is not None
    assert api.route_selection_expression == "$request.body.action"
    keys = {route.route_key: route.function for route in api.routes}
    expected = {"$connect", "$disconnect", "$default", "openSession", "sendMessage", "typing", "read", "ping"}
    assert set(keys) == expected
    assert set(keys.values()) == {"ChatSocketFunction"}


def test_connect_is_guarded_by_the_token_authorizer(template: Template) -> None:
    api = template.websocket_api
    assert api is not None
    connect = api.route("$connect")
    assert connect is not None and connect.authorizer is not None
    assert connect.authorizer.function == "SocketAuthorizerFunction"
    assert connect.authorizer.identity_sources == (("querystring", "token"),)
    # Only $connect is authorized; later frames carry its context
    assert all(route.authorizer is None for route in api.routes if route.route_key != "$connect")


def test_the_queue_sweeper_runs_every_minute(template: Template) -> None:
    (schedule,) = [s for s in template.schedules if s.function == "QueueSweepFunction"]
    assert schedule.expression == RateExpression(60)
    assert schedule.enabled


def test_reminders_consume_the_reminder_queue_with_partial_failures(template: Template) -> None:
    (source,) = template.sqs_sources
    assert (source.function, source.queue, source.batch_size) == ("ReminderFunction", "ReminderQueue", 10)
    assert source.report_batch_item_failures


def test_every_event_is_driven_locally(template: Template) -> None:
    assert template.unsupported_events == ()


def test_every_function_has_its_handler_file(template: Template) -> None:
    for function in template.functions.values():
        assert function.code_uri is not None and function.handler is not None
        module = function.handler.rpartition(".")[0].replace(".", "/")
        assert (template.root / function.code_uri / f"{module}.py").is_file(), function.logical_id


def test_function_environments_resolve_against_template_resources(template: Template) -> None:
    # Given every resource's Ref and every attribute the template reads
    refs = {logical_id: f"ref-{logical_id}" for logical_id in template.resources}
    attrs = {pair: f"attr-{pair[0]}" for pair in template.attribute_references()}
    params = _params(template)
    # Then each function's environment resolves to plain strings
    for function in template.functions.values():
        environment = resolve(function.environment, refs, attrs, params)
        assert all(isinstance(value, str) for value in environment.values()), function.logical_id
        assert environment["TABLE_NAME"] == "ref-DataTable"


def test_resources_have_a_provisioning_order(template: Template) -> None:
    order = template.dependency_order()
    assert order.index("ReminderDeadLetterQueue") < order.index("ReminderQueue")
    assert order.index("UserPool") < order.index("UserPoolClient") < len(order)
    assert order.index("UserPool") < order.index("AdminGroup")
