"""`python -m infra.local.run`: its options, its output, and a real start and stop of a tiny stack."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import unicodedata
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import botocore.session
import pytest
from moto.server import ThreadedMotoServer

from infra.local.provision import Resources
from infra.local.run import (
    MotoProcess,
    StartupError,
    format_table,
    function_environments,
    localstack_endpoint,
    parse_args,
    provision_in_child,
    runtime_environment,
    share_botocore_data,
    write_ready_file,
)
from infra.local.template import TemplateError, load_template, load_yaml, parse_template, pseudo_parameters

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --------------------------------------------------------------------------- options and output


@pytest.mark.unit
def test_defaults() -> None:
    settings = parse_args([], environ={})
    assert (settings.backend, settings.host, settings.web_port, settings.api_port, settings.moto_port) == (
        "moto",
        "127.0.0.1",
        3000,
        3001,
        4001,
    )
    assert (settings.store_id, settings.store_name, settings.region) == ("demo", "ShopDesk 演示店", "ap-southeast-1")
    assert settings.seed and settings.ready_file is None and settings.schedule_scale == 1.0
    assert settings.template == ROOT / "template.yaml"
    assert settings.web_root == ROOT / "web"


@pytest.mark.unit
def test_environment_then_command_line() -> None:
    environ = {"SHOPDESK_API_PORT": "5001", "SHOPDESK_NO_SEED": "1", "SHOPDESK_READY_FILE": "/tmp/r.json"}
    from_env = parse_args([], environ=environ)
    assert (from_env.api_port, from_env.seed, from_env.ready_file) == (5001, False, Path("/tmp/r.json"))
    assert parse_args(["--api-port", "6001", "--backend", "localstack"], environ=environ).api_port == 6001
    with pytest.raises(SystemExit):
        parse_args(["--schedule-scale", "0"], environ={})


@pytest.mark.unit
def test_wildcard_hosts_are_reached_on_loopback() -> None:
    assert parse_args(["--host", "0.0.0.0"], environ={}).public_host == "127.0.0.1"


@pytest.mark.unit
def test_logins_table_stays_aligned_with_chinese_names() -> None:
    rows = [
        {"role": "leader", "username": "leader", "name": "刘组长"},
        {"role": "agent", "username": "a1", "name": "小王"},
    ]
    lines = format_table(rows, ("name", "role", "username")).splitlines()

    def screen_column(line: str, text: str) -> int:
        prefix = line[: line.index(text)]
        return sum(2 if unicodedata.east_asian_width(char) == "W" else 1 for char in prefix)

    # Chinese characters take two screen columns, so the role column lines up on every row
    assert [screen_column(lines[1], "leader"), screen_column(lines[2], "agent")] == [8, 8]
    assert lines[0].startswith("name    role")


@pytest.mark.unit
def test_ready_file_is_written_whole(tmp_path: Path) -> None:
    target = tmp_path / "nested" / "ready.json"
    write_ready_file(target, {"api_url": "http://x", "logins": [{"name": "小王"}]})
    assert json.loads(target.read_text(encoding="utf-8"))["logins"][0]["name"] == "小王"
    assert [path.name for path in target.parent.iterdir()] == ["ready.json"]


@pytest.mark.unit
def test_callback_override_applies_where_the_function_reads_it(tmp_path: Path) -> None:
    template = parse_template(
        load_yaml(
            """
            Resources:
              Socket: {Type: AWS::Serverless::Function, Properties: {Environment: {Variables: {WS_CALLBACK_URL: aws}}}}
              Plain: {Type: AWS::Serverless::Function, Properties: {Environment: {Variables: {OTHER: x}}}}
            """
        ),
        tmp_path,
    )
    resources = Resources(template, pseudo_parameters("ap-southeast-1", "1"), {}, "ap-southeast-1", "1")
    environments = function_environments(resources, {"WS_CALLBACK_URL": "http://127.0.0.1:3001/prod"})
    assert environments == {"Socket": {"WS_CALLBACK_URL": "http://127.0.0.1:3001/prod"}, "Plain": {"OTHER": "x"}}


@pytest.mark.unit
def test_runtime_environment_points_boto3_at_the_backend() -> None:
    moto = MotoProcess("127.0.0.1", 4001)
    settings = parse_args([], environ={})
    environment = runtime_environment(settings, moto.url, moto)
    assert environment["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4001"
    assert environment["AWS_ACCOUNT_ID_ENDPOINT_MODE"] == "disabled"
    assert environment["MOTO_PORT"] == "4001"
    assert "AWS_ENDPOINT_URL_COGNITO_IDP" not in environment
    # With LocalStack, only Cognito stays on moto
    localstack = runtime_environment(parse_args(["--backend", "localstack"], environ={}), "http://localhost:4566", moto)
    assert (localstack["AWS_ENDPOINT_URL"], localstack["AWS_ENDPOINT_URL_COGNITO_IDP"]) == (
        "http://localhost:4566",
        "http://127.0.0.1:4001",
    )


@pytest.mark.unit
def test_localstack_that_is_not_running_gives_a_readable_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("LOCALSTACK_HOST", f"127.0.0.1:{_free_port()}")
    with pytest.raises(StartupError, match="Start LocalStack first"):
        localstack_endpoint()


@pytest.mark.unit
def test_botocore_sessions_share_one_data_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    # Restored after the test, so that no other test runs with the shared loader
    monkeypatch.setattr(botocore.session, "create_loader", botocore.session.create_loader)
    share_botocore_data()
    first, second = botocore.session.get_session(), botocore.session.get_session()
    assert first.get_component("data_loader") is second.get_component("data_loader")


# --------------------------------------------------------------------------- a real start and stop

TINY = """
Parameters:
  StoreId: {Type: String, AllowedPattern: "^[a-z0-9-]{2,32}$"}
  StageName: {Type: String, Default: prod}
Globals:
  Function:
    Environment:
      Variables:
        TABLE_NAME: !Ref Table
        WS_CALLBACK_URL: !Sub "https://${Socket}.execute-api.${AWS::Region}.amazonaws.com/${StageName}"
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
  Api:
    Type: AWS::Serverless::Api
    Properties: {StageName: !Ref StageName}
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/hello/
      Handler: app.lambda_handler
      Events:
        Hello: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /hello, Method: GET}}
        Tick: {Type: Schedule, Properties: {Schedule: rate(1 day)}}
  Socket:
    Type: AWS::ApiGatewayV2::Api
    Properties: {ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action}
  Integration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Socket
      IntegrationUri: !Sub "arn:aws:apigateway:r:lambda:path/2015-03-31/functions/${HelloFunction.Arn}/invocations"
  DefaultRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Socket, RouteKey: $default, Target: !Sub "integrations/${Integration}"}
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties: {ApiId: !Ref Socket, StageName: !Ref StageName}
"""

HELLO = """
import json
import os

import boto3


def lambda_handler(event, context):
    request = event.get("requestContext", {})
    if request.get("eventType") == "MESSAGE":
        client = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["WS_CALLBACK_URL"])
        client.post_to_connection(ConnectionId=request["connectionId"], Data=event["body"].encode())
        return {"statusCode": 200}
    if "httpMethod" not in event:
        return {"statusCode": 200}
    count = boto3.client("dynamodb").describe_table(TableName=os.environ["TABLE_NAME"])["Table"]["ItemCount"]
    return {"statusCode": 200, "body": json.dumps({"table": os.environ["TABLE_NAME"], "items": count})}
"""


def _tiny_stack(folder: Path) -> None:
    (folder / "template.yaml").write_text(TINY)
    (folder / "functions" / "hello").mkdir(parents=True)
    (folder / "functions" / "hello" / "app.py").write_text(HELLO)
    (folder / "web").mkdir()
    (folder / "web" / "index.html").write_text("<p>hi</p>")


@pytest.mark.integration
def test_the_stack_starts_serves_and_stops_cleanly(tmp_path: Path) -> None:
    # Given a tiny template whose function reads the table and answers WebSocket frames
    _tiny_stack(tmp_path)
    ready = tmp_path / "ready.json"
    moto_port = _free_port()
    command = [
        sys.executable, "-m", "infra.local.run", "--template", str(tmp_path / "template.yaml"),
        "--web-root", str(tmp_path / "web"), "--no-seed", "--ready-file", str(ready), "--store-id", "tiny",
        "--api-port", str(_free_port()), "--web-port", str(_free_port()), "--moto-port", str(moto_port),
    ]  # fmt: skip
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "SHOPDESK_"))}
    # When it starts
    process = subprocess.Popen(
        command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the stack did not become ready"
            time.sleep(0.1)
        info = json.loads(ready.read_text(encoding="utf-8"))
        # Then the ready file describes it
        assert info["table_name"] == "shopdesk-tiny-Table"
        assert info["api_url"].endswith("/prod") and info["ws_url"].startswith("ws://127.0.0.1:")
        assert info["logins"] == [] and info["user_pool_id"] is None
        # And the handler answers over REST, with the environment resolved from the template
        with urllib.request.urlopen(f"{info['api_url']}/hello", timeout=10) as response:
            assert json.loads(response.read()) == {"table": "shopdesk-tiny-Table", "items": 0}
        # And over the WebSocket, replying through WS_CALLBACK_URL, which points at the local gateway
        assert asyncio.run(_echo(info["ws_url"], "ping")) == "ping"
        # And the web app and its config are served
        with urllib.request.urlopen(f"{info['web_url']}/config.js", timeout=10) as response:
            assert json.loads(response.read().decode().split("= ", 1)[1].rstrip(";\n"))["storeId"] == "tiny"
    finally:
        # When it is told to stop
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    # Then it stops cleanly: exit 0, no traceback, no ready file, no moto left behind
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "Press Ctrl-C to stop." in stdout and "Stopping ShopDesk" in stdout
    assert not ready.exists()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", moto_port)) != 0


@pytest.mark.integration
def test_provisioning_runs_in_a_child_and_its_resources_come_back(tmp_path: Path) -> None:
    # Given a tiny template and moto
    _tiny_stack(tmp_path)
    template = load_template(tmp_path / "template.yaml")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        # When the child provisions it
        settings = parse_args(["--template", str(tmp_path / "template.yaml"), "--store-id", "tiny"], environ={})
        resources = asyncio.run(provision_in_child(settings, template, f"http://{host}:{port}", None))
        # Then the serving process gets the refs and attributes it made
        assert resources.refs["Table"] == "shopdesk-tiny-Table"
        assert resources.attrs[("Table", "Arn")].endswith(":table/shopdesk-tiny-Table")
        assert resources.function_environment("HelloFunction")["TABLE_NAME"] == "shopdesk-tiny-Table"
        # And a template error comes back as one
        invalid = parse_args(["--template", str(tmp_path / "template.yaml"), "--store-id", "No Spaces"], environ={})
        with pytest.raises(TemplateError, match="StoreId"):
            asyncio.run(provision_in_child(invalid, template, f"http://{host}:{port}", None))
    finally:
        server.stop()


async def _echo(url: str, text: str) -> Any:
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        await ws.send_str(text)
        return await ws.receive_str(timeout=10)
