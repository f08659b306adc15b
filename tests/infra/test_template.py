"""The template's wiring: what it declares matches what the handlers, models and docs expect."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from infra.local.template import load_template

pytestmark = pytest.mark.infra

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")


def test_every_function_runs_python_3_12_from_a_handler_file_that_exists():
    for function_id, spec in TEMPLATE.functions.items():
        assert spec.runtime == "python3.12", function_id
        source = ROOT / str(spec.code_uri) / "app.py"
        assert spec.handler == "app.lambda_handler", function_id
        assert "def lambda_handler" in source.read_text(encoding="utf-8"), function_id
        assert TEMPLATE.layer_dirs(function_id) == [(ROOT / "layers/shopdesk").resolve()], function_id


def test_the_layer_ships_the_package_and_its_pinned_requirements():
    layer = TEMPLATE.resources["SharedLayer"]
    assert layer.properties["ContentUri"] == "layers/shopdesk/"
    assert (ROOT / "layers/shopdesk/shopdesk/__init__.py").exists()
    requirements = (ROOT / "layers/shopdesk/requirements.txt").read_text().splitlines()
    pins = [line for line in requirements if line and not line.startswith("#")]
    assert pins and all("==" in line for line in pins)


def test_the_store_is_a_parameter_of_the_stack():
    assert {"StoreId", "StoreName", "AlertEmail"} <= set(TEMPLATE.parameters)


def test_the_table_has_the_keys_and_indexes_the_models_query():
    table = TEMPLATE.resources["DataTable"].properties
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk", "sk"]
    indexes = {i["IndexName"]: [k["AttributeName"] for k in i["KeySchema"]] for i in table["GlobalSecondaryIndexes"]}
    assert indexes == {f"gsi{n}": [f"gsi{n}pk", f"gsi{n}sk"] for n in range(1, 9)}
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    models = (ROOT / "layers/shopdesk/shopdesk/models.py").read_text()
    assert 'index_name = "gsi1"' in models and 'index_name = "gsi2"' in models
    assert "_index(n) for n in range(3, 9)" in models


def test_every_websocket_route_in_the_docs_reaches_the_chat_function():
    api = TEMPLATE.websocket_api
    assert api is not None and api.route_selection_expression == "$request.body.action"
    documented = set(re.findall(r"^\| `(\w+)` \| (?:visitor|anyone)", (ROOT / "docs/api.md").read_text(), re.M))
    keys = {route.route_key for route in api.routes}
    assert {"$connect", "$disconnect", "$default"} | documented <= keys
    assert {route.function for route in api.routes} == {"ChatSocketFunction"}
    handler = (ROOT / "functions/chat_socket/app.py").read_text()
    for key in keys - {"$connect", "$disconnect", "$default"}:
        assert f'@app.route("{key}")' in handler, key


def test_connect_is_guarded_by_the_token_authorizer():
    api = TEMPLATE.websocket_api
    assert api is not None
    connect = api.route("$connect")
    assert connect is not None and connect.authorizer is not None
    assert connect.authorizer.function == "SocketAuthorizerFunction"


def test_rest_routes_in_the_template_and_in_the_handlers_are_the_same():
    from infra.openapi import rest_functions

    declared = {
        (route.function, route.method, route.path) for api in TEMPLATE.rest_apis.values() for route in api.routes
    }
    served = set()
    for function_id, resolver in rest_functions().items():
        schema = json.loads(resolver.get_openapi_json_schema())
        for path, operations in schema["paths"].items():
            served |= {(function_id, method.upper(), path) for method in operations}
    assert served == declared


def test_the_reminder_queue_feeds_its_function_with_partial_batch_failures_and_a_dead_letter_queue():
    (source,) = TEMPLATE.sqs_sources
    assert source.function == "ReminderFunction" and source.queue == "ReminderQueue"
    assert source.report_batch_item_failures
    redrive = TEMPLATE.resources["ReminderQueue"].properties["RedrivePolicy"]
    assert redrive["maxReceiveCount"] == 5


def test_the_schedules_sweep_every_minute_refresh_every_three_and_close_days_at_local_midnight():
    schedules = {schedule.function: schedule.text for schedule in TEMPLATE.schedules}
    assert schedules == {
        "QueueSweepFunction": "rate(1 minute)",
        "TicketArchiveFunction": "cron(30 18 * * ? *)",
        "MonitorRefreshFunction": "rate(3 minutes)",
        "MonitorDailyFunction": "cron(1 * * * ? *)",  # hourly: the first run after local midnight closes the day
    }


def test_functions_that_push_frames_may_manage_connections():
    pushers = {
        "AgentFunction",
        "VisitorFunction",
        "ChatSocketFunction",
        "ReminderFunction",
        "QueueSweepFunction",
        "TicketFunction",
        "TicketEventsFunction",
        "MonitorFunction",
        "MonitorRefreshFunction",
    }
    for function_id in pushers:
        policies = json.dumps(TEMPLATE.resources[function_id].properties["Policies"])
        assert "execute-api:ManageConnections" in policies, function_id


def test_cfn_lint_passes():
    result = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), str(ROOT / "template.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_published_openapi_document_is_the_generated_one():
    from infra.openapi import document

    published = json.loads((ROOT / "docs/openapi.json").read_text(encoding="utf-8"))
    assert published == document(), "run `make openapi` and commit docs/openapi.json"


def test_the_sla_machine_is_wired_by_file_and_substitutions_with_no_arns_inside():
    machine = TEMPLATE.resources["SlaEscalationStateMachine"].properties
    definition = (ROOT / machine["DefinitionUri"]).read_text(encoding="utf-8")
    placeholders = set(re.findall(r"\$\{(\w+)\}", definition))
    assert placeholders == set(machine["DefinitionSubstitutions"])
    assert "arn:aws:" not in definition.replace("arn:aws:states:::", "")
    states = json.loads(definition)["States"]
    for name, state in states.items():
        for step in ("Next", "Default"):
            assert state.get(step) in (None, *states), f"{name}.{step}"
        for rule in state.get("Retry", []) + state.get("Catch", []):
            assert "States.ALL" not in rule["ErrorEquals"], f"{name} names the errors it retries or catches"
