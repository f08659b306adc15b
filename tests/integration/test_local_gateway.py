"""The local API Gateway over real HTTP and WebSocket, with tiny fake handlers and moto behind them.

The fake functions live in a temporary folder with their own small template, so these tests do not
depend on the real handlers.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import boto3
import pytest
from aiohttp import web
from moto.server import ThreadedMotoServer

from infra.local.events import ScheduleRunner, SqsPoller, schedule_bindings, sqs_bindings
from infra.local.gateway import Gateway, GatewaySettings, config_script, create_web_app, new_connection_id
from infra.local.handlers import LambdaRuntime, LocalFunction, load_functions, module_name
from infra.local.provision import Backend, Resources, provision
from infra.local.template import load_template

pytestmark = pytest.mark.integration

REGION = "ap-southeast-1"

TEMPLATE = """
Parameters:
  StageName: {Type: String, Default: prod}
Globals:
  Function:
    Environment:
      Variables:
        WS_CALLBACK_URL: !Sub "https://${Socket}.execute-api.${AWS::Region}.amazonaws.com/${StageName}"
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: !Ref StageName
      Cors: {AllowOrigin: "'*'", AllowHeaders: "'Content-Type,Authorization'", MaxAge: "'600'"}
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/echo/
      Handler: app.lambda_handler
      Timeout: 7
      Events:
        Item: {Type: Api, Properties: {RestApiId: !Ref Api, Path: "/items/{item_id}", Method: GET}}
        Special: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /items/special, Method: GET}}
        Create: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /items, Method: POST}}
        Files: {Type: Api, Properties: {RestApiId: !Ref Api, Path: "/files/{proxy+}", Method: ANY}}
        Boom: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /boom, Method: GET}}
        Bad: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /bad, Method: GET}}
        Binary: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /binary, Method: GET}}
  SocketFunction:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: functions/socket/, Handler: app.lambda_handler}
  AuthorizerFunction:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: functions/authorizer/, Handler: app.lambda_handler}
  SweepFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/sweep/
      Handler: app.lambda_handler
      Events:
        EveryMinute: {Type: Schedule, Properties: {Schedule: rate(1 minute)}}
  WorkerFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/worker/
      Handler: app.lambda_handler
      Events:
        Jobs: {Type: SQS, Properties: {Queue: !GetAtt Jobs.Arn, FunctionResponseTypes: [ReportBatchItemFailures]}}
  Jobs:
    Type: AWS::SQS::Queue
  Socket:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: chat, ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action}
  Integration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Socket
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub "arn:aws:apigateway:r:lambda:path/2015-03-31/functions/${SocketFunction.Arn}/invocations"
  Authorizer:
    Type: AWS::ApiGatewayV2::Authorizer
    Properties:
      ApiId: !Ref Socket
      Name: token
      AuthorizerType: REQUEST
      AuthorizerUri: !Sub "arn:aws:apigateway:r:lambda:path/2015-03-31/functions/${AuthorizerFunction.Arn}/invocations"
      IdentitySource: [route.request.querystring.token]
  ConnectRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Socket
      RouteKey: $connect
      AuthorizationType: CUSTOM
      AuthorizerId: !Ref Authorizer
      Target: !Sub "integrations/${Integration}"
  DisconnectRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Socket, RouteKey: $disconnect, Target: !Sub "integrations/${Integration}"}
  DefaultRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Socket, RouteKey: $default, Target: !Sub "integrations/${Integration}"}
  EchoRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Socket, RouteKey: echo, Target: !Sub "integrations/${Integration}"}
  BoomRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Socket, RouteKey: boom, Target: !Sub "integrations/${Integration}"}
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties: {ApiId: !Ref Socket, StageName: !Ref StageName}
"""

ECHO = """
import base64
import json


def lambda_handler(event, context):
    if event["resource"] == "/boom":
        raise RuntimeError("boom")
    if event["resource"] == "/bad":
        return {"body": "no statusCode"}
    if event["resource"] == "/binary":
        return {"statusCode": 200, "headers": {"Content-Type": "image/png"},
                "body": base64.b64encode(b"\\x89PNG").decode(), "isBase64Encoded": True}
    return {
        "statusCode": 201 if event["httpMethod"] == "POST" else 200,
        "headers": {"X-Function": context.function_name},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": json.dumps({"event": event, "memory": context.memory_limit_in_mb,
                            "remaining": context.get_remaining_time_in_millis()}),
    }
"""

SOCKET = """
import json
import os
import threading
import time

import boto3

EVENTS = []
_lock = threading.Lock()


def _post(connection_id, payload):
    client = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["WS_CALLBACK_URL"])
    client.post_to_connection(ConnectionId=connection_id, Data=json.dumps(payload).encode())


def lambda_handler(event, context):
    with _lock:
        EVENTS.append(event)
    request = event["requestContext"]
    if request["eventType"] == "CONNECT":
        refuse = (event.get("queryStringParameters") or {}).get("refuse")
        return {"statusCode": int(refuse) if refuse else 200}
    if request["eventType"] == "DISCONNECT":
        return {"statusCode": 200}
    if request["routeKey"] == "boom":
        raise RuntimeError("boom")
    if request["routeKey"] == "$default":
        _post(request["connectionId"], {"route": "$default", "body": event["body"]})
        return {"statusCode": 200}
    frame = json.loads(event["body"])
    time.sleep(frame.get("sleep", 0))
    _post(request["connectionId"], {"route": request["routeKey"], "text": frame.get("text"),
                                    "authorizer": request.get("authorizer")})
    return {"statusCode": 200, "body": "ignored"}
"""

AUTHORIZER = """
def lambda_handler(event, context):
    token = event["queryStringParameters"]["token"]
    if token == "expired":
        raise Exception("Unauthorized")
    return {
        "principalId": "agent-7",
        "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow" if token == "good" else "Deny",
             "Resource": event["methodArn"]}]},
        "context": {"role": "agent", "user_id": "agent-7", "capacity": 5, "vip": True},
    }
"""

SWEEP = """
def lambda_handler(event, context):
    return {"swept": event["detail-type"], "rule": event["resources"][0]}
"""

WORKER = """
def lambda_handler(event, context):
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "fail"]}
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Stack:
    resources: Resources
    functions: dict[str, LocalFunction]
    port: int
    backend: str

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def socket_events(self) -> list[dict[str, Any]]:
        return sys.modules[module_name("SocketFunction")].EVENTS  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # Given a tiny template with fake functions, provisioned into moto
    root = tmp_path_factory.mktemp("gateway")
    (root / "template.yaml").write_text(TEMPLATE)
    for name, code in (
        ("echo", ECHO),
        ("socket", SOCKET),
        ("authorizer", AUTHORIZER),
        ("sweep", SWEEP),
        ("worker", WORKER),
    ):
        (root / "functions" / name).mkdir(parents=True)
        (root / "functions" / name / "app.py").write_text(code)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, moto_port = server.get_host_and_port()
    backend = f"http://{host}:{moto_port}"
    port = _free_port()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "WS_CALLBACK_URL": f"http://127.0.0.1:{port}/prod",
        }.items():
            patch.setenv(name, value)
        template = load_template(root / "template.yaml")
        resources = provision(template, backend, {}, region=REGION)
        names = {function_id: resources.function_name(function_id) for function_id in template.functions}
        arns = {function_id: resources.function_arn(function_id) for function_id in template.functions}
        yield Stack(resources, load_functions(template, names, arns), port, backend)
    server.stop()


@asynccontextmanager
async def running(stack: Stack) -> AsyncIterator[Gateway]:
    runtime = LambdaRuntime(stack.functions, concurrency=4)
    resources = stack.resources
    schedules = ScheduleRunner(
        schedule_bindings(resources), runtime, region=resources.region, account_id=resources.account_id
    )
    sqs = Backend(stack.backend, REGION).client("sqs")
    pollers = [SqsPoller(binding, runtime, sqs, REGION) for binding in sqs_bindings(resources)]
    gateway = Gateway(GatewaySettings.from_resources(resources), runtime, schedules=schedules, pollers=pollers)
    runner = web.AppRunner(gateway.app())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", stack.port).start()
    try:
        yield gateway
    finally:
        await runner.cleanup()
        runtime.shutdown()


def _management_client(stack: Stack) -> Any:
    return boto3.client("apigatewaymanagementapi", endpoint_url=f"{stack.base}/prod", region_name=REGION)


async def _frame(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    return json.loads(await ws.receive_str(timeout=10))  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- REST


def test_rest_proxy_event_and_response(stack: Stack) -> None:
    async def scenario() -> None:
        async with running(stack), aiohttp.ClientSession() as http:
            # When a GET with a path parameter and a repeated query parameter comes in under the stage
            response = await http.get(f"{stack.base}/prod/items/42?tag=a&tag=b&q=x", headers={"X-Trace": "t1"})
            payload = await response.json()
            event = payload["event"]
            # Then the handler got a REST (v1) proxy event
            assert event["resource"] == "/items/{item_id}"
            assert event["path"] == "/items/42"
            assert event["httpMethod"] == "GET"
            assert event["pathParameters"] == {"item_id": "42"}
            assert event["queryStringParameters"] == {"tag": "b", "q": "x"}
            assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "q": ["x"]}
            assert event["headers"]["X-Trace"] == "t1"
            assert event["multiValueHeaders"]["X-Trace"] == ["t1"]
            assert event["stageVariables"] is None
            assert (event["body"], event["isBase64Encoded"]) == (None, False)
            context = event["requestContext"]
            assert (context["resourcePath"], context["httpMethod"], context["stage"]) == (
                "/items/{item_id}",
                "GET",
                "prod",
            )
            assert context["path"] == "/prod/items/42"
            assert context["identity"]["sourceIp"] == "127.0.0.1"
            assert context["apiId"] == stack.resources.refs["Api"]
            assert context["accountId"] == stack.resources.account_id
            assert isinstance(context["requestTimeEpoch"], int) and context["requestId"]
            # And with a Lambda-like context
            assert payload["memory"] == 128 and 0 < payload["remaining"] <= 7000
            # And the proxy response came back with its headers, multi-value headers and CORS
            assert response.status == 200
            assert response.headers["X-Function"] == stack.resources.function_name("EchoFunction")
            assert response.headers.getall("Set-Cookie") == ["a=1", "b=2"]
            assert response.headers["Access-Control-Allow-Origin"] == "*"
            assert response.headers["Content-Type"] == "application/json"

    asyncio.run(scenario())


def test_rest_routes_at_root_literal_precedence_greedy_paths_and_bodies(stack: Stack) -> None:
    async def scenario() -> None:
        async with running(stack), aiohttp.ClientSession() as http:
            # The same route without the stage prefix
            root = await (await http.get(f"{stack.base}/items/7")).json()
            assert root["event"]["pathParameters"] == {"item_id": "7"}
            assert root["event"]["requestContext"]["path"] == "/prod/items/7"
            # A literal path beats a parameter
            special = await (await http.get(f"{stack.base}/prod/items/special")).json()
            assert special["event"]["resource"] == "/items/special"
            assert special["event"]["pathParameters"] is None
            # {proxy+} takes the rest of the path, for ANY method
            files = await (await http.delete(f"{stack.base}/prod/files/a/b%20c.txt")).json()
            assert files["event"]["pathParameters"] == {"proxy": "a/b c.txt"}
            assert files["event"]["httpMethod"] == "DELETE"
            # A POST body arrives as text
            created = await http.post(f"{stack.base}/prod/items", json={"name": "茶"})
            assert created.status == 201
            assert json.loads((await created.json())["event"]["body"]) == {"name": "茶"}
            # A base64 response is decoded
            binary = await http.get(f"{stack.base}/prod/binary")
            assert (await binary.read(), binary.headers["Content-Type"]) == (b"\x89PNG", "image/png")

    asyncio.run(scenario())


def test_rest_preflight_unknown_routes_and_handler_failures(stack: Stack) -> None:
    async def scenario() -> None:
        async with running(stack), aiohttp.ClientSession() as http:
            # An OPTIONS preflight is answered from the template's Cors, without the handler
            preflight = await http.options(f"{stack.base}/prod/items/1")
            assert preflight.status == 200
            assert preflight.headers["Access-Control-Allow-Origin"] == "*"
            assert preflight.headers["Access-Control-Allow-Headers"] == "Content-Type,Authorization"
            assert preflight.headers["Access-Control-Allow-Methods"] == "GET,OPTIONS"
            assert preflight.headers["Access-Control-Max-Age"] == "600"
            # An unknown route or method answers as API Gateway does
            for method, path in (("GET", "/prod/nowhere"), ("PUT", "/prod/items/1"), ("OPTIONS", "/prod/nowhere")):
                missing = await http.request(method, f"{stack.base}{path}")
                assert missing.status == 403
                assert await missing.json() == {"message": "Missing Authentication Token"}
            # A handler exception or a malformed response is a 502
            for path in ("/prod/boom", "/prod/bad"):
                failed = await http.get(f"{stack.base}{path}")
                assert failed.status == 502
                assert await failed.json() == {"message": "Internal server error"}

    asyncio.run(scenario())


# --------------------------------------------------------------------------- WebSocket


def test_websocket_connect_authorizer_routes_and_connections_api(stack: Stack) -> None:
    async def scenario() -> None:
        async with running(stack) as gateway, aiohttp.ClientSession() as http:
            # Given a client connected with a good token
            async with http.ws_connect(f"ws://127.0.0.1:{stack.port}/prod?token=good") as ws:
                connect = stack.socket_events[-1]
                connection_id = connect["requestContext"]["connectionId"]
                assert connect["requestContext"]["eventType"] == "CONNECT"
                assert connect["requestContext"]["routeKey"] == "$connect"
                assert connect["queryStringParameters"] == {"token": "good"}
                assert connect["isBase64Encoded"] is False
                assert connect["requestContext"]["authorizer"] == {
                    "role": "agent",
                    "user_id": "agent-7",
                    "capacity": "5",
                    "vip": "true",
                    "principalId": "agent-7",
                }
                assert list(gateway.connections) == [connection_id]
                # When it sends frames, Then the action selects the route, the handler replies through
                # @connections with a real boto3 client, and the authorizer context rides along
                await ws.send_str(json.dumps({"action": "echo", "text": "你好"}))
                reply = await _frame(ws)
                assert reply["route"] == "echo" and reply["text"] == "你好"
                assert reply["authorizer"]["user_id"] == "agent-7"
                message = stack.socket_events[-1]["requestContext"]
                assert (message["eventType"], message["connectionId"]) == ("MESSAGE", connection_id)
                assert message["messageId"]
                # Unknown actions and non-JSON frames go to $default
                await ws.send_str(json.dumps({"action": "nope"}))
                assert (await _frame(ws))["route"] == "$default"
                await ws.send_str("not json")
                assert await _frame(ws) == {"route": "$default", "body": "not json"}
                # Frames of one connection are handled one at a time, in order
                await ws.send_str(json.dumps({"action": "echo", "text": "first", "sleep": 0.3}))
                await ws.send_str(json.dumps({"action": "echo", "text": "second"}))
                assert [(await _frame(ws))["text"], (await _frame(ws))["text"]] == ["first", "second"]
                # A handler exception becomes API Gateway's error frame
                await ws.send_str(json.dumps({"action": "boom"}))
                error = await _frame(ws)
                assert error["message"] == "Internal server error" and error["connectionId"] == connection_id
                # GET @connections/{id} describes the connection
                described = await asyncio.to_thread(
                    _management_client(stack).get_connection, ConnectionId=connection_id
                )
                assert described["Identity"]["SourceIp"] == "127.0.0.1"
                assert described["LastActiveAt"] >= described["ConnectedAt"]
                # DELETE closes it, and $disconnect follows
                await asyncio.to_thread(_management_client(stack).delete_connection, ConnectionId=connection_id)
                closed = await ws.receive(timeout=10)
                assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            for _ in range(100):
                if stack.socket_events[-1]["requestContext"]["eventType"] == "DISCONNECT":
                    break
                await asyncio.sleep(0.05)
            disconnect = stack.socket_events[-1]["requestContext"]
            assert (disconnect["eventType"], disconnect["routeKey"]) == ("DISCONNECT", "$disconnect")
            assert disconnect["connectionId"] == connection_id
            assert disconnect["authorizer"]["principalId"] == "agent-7"
            assert gateway.connections == {}

    asyncio.run(scenario())


def test_post_to_an_unknown_connection_raises_gone(stack: Stack) -> None:
    async def scenario() -> None:
        async with running(stack):
            client = _management_client(stack)
            with pytest.raises(client.exceptions.GoneException):
                await asyncio.to_thread(client.post_to_connection, ConnectionId=new_connection_id(), Data=b"{}")
            with pytest.raises(client.exceptions.GoneException):
                await asyncio.to_thread(client.get_connection, ConnectionId="unknown")
            # The API also answers without the stage prefix
            bare = boto3.client("apigatewaymanagementapi", endpoint_url=stack.base, region_name=REGION)
            with pytest.raises(bare.exceptions.GoneException):
                await asyncio.to_thread(bare.post_to_connection, ConnectionId="unknown", Data=b"{}")

    asyncio.run(scenario())


def test_connect_is_refused_by_the_authorizer_or_the_handler(stack: Stack) -> None:
    async def status_of(http: aiohttp.ClientSession, query: str) -> int:
        try:
            async with http.ws_connect(f"ws://127.0.0.1:{stack.port}/prod{query}"):
                return 101
        except aiohttp.WSServerHandshakeError as refused:
            return refused.status

    async def scenario() -> None:
        async with running(stack) as gateway, aiohttp.ClientSession() as http:
            calls = len(stack.socket_events)
            assert await status_of(http, "") == 401  # identity source missing: the authorizer is not called
            assert await status_of(http, "?token=expired") == 401  # the authorizer raised "Unauthorized"
            assert await status_of(http, "?token=bad") == 403  # the policy denies
            assert len(stack.socket_events) == calls  # $connect never ran
            assert await status_of(http, "?token=good&refuse=409") == 409  # $connect answered 409
            assert gateway.connections == {}

    asyncio.run(scenario())


def test_websocket_messages_over_128_kb_close_with_1009(stack: Stack) -> None:
    async def scenario() -> None:
        async with (
            running(stack),
            aiohttp.ClientSession() as http,
            http.ws_connect(f"ws://127.0.0.1:{stack.port}/ws?token=good") as ws,
        ):
            # A frame just under the limit is delivered
            await ws.send_str(json.dumps({"action": "echo", "text": "y" * (100 * 1024)}))
            assert len((await _frame(ws))["text"]) == 100 * 1024
            # One over it closes the connection with 1009, as API Gateway does
            await ws.send_str(json.dumps({"action": "echo", "text": "x" * (128 * 1024)}))
            closed = await ws.receive(timeout=10)
            assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            assert ws.close_code == 1009

    asyncio.run(scenario())


# --------------------------------------------------------------------------- control API


def test_control_api_fires_schedules_and_drains_queues(stack: Stack) -> None:
    sqs = Backend(stack.backend, REGION).client("sqs")
    queue_url = stack.resources.refs["Jobs"]
    for body in ("ok", "fail"):
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)

    async def scenario() -> None:
        async with running(stack), aiohttp.ClientSession() as http:
            fired = await http.post(f"{stack.base}/_local/schedules/SweepFunction")
            assert fired.status == 200
            result = await fired.json()
            assert result["swept"] == "Scheduled Event"
            assert result["rule"].startswith(f"arn:aws:events:{REGION}:")
            assert (await http.post(f"{stack.base}/_local/schedules/EchoFunction")).status == 404
            drained = await (await http.post(f"{stack.base}/_local/queues/drain")).json()
            (only,) = drained["results"]
            assert (only["function"], only["received"], only["deleted"], only["kept"]) == ("WorkerFunction", 2, 1, 1)

    asyncio.run(scenario())


# --------------------------------------------------------------------------- web


def test_web_app_serves_files_folders_and_config(tmp_path: Path) -> None:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "index.html").write_text("<h1>店</h1>", encoding="utf-8")
    (tmp_path / "app.js").write_text("console.log(1)")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG")
    config = {"apiUrl": "http://127.0.0.1:3001/prod", "storeName": "</script><b>店"}
    port = _free_port()

    async def scenario() -> None:
        runner = web.AppRunner(create_web_app(tmp_path, config))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        base = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession() as http:
                page = await http.get(f"{base}/shop/")
                assert (await page.text(), page.headers["Cache-Control"]) == ("<h1>店</h1>", "no-store")
                assert page.headers["Content-Type"].startswith("text/html")
                redirect = await http.get(f"{base}/shop?x=1", allow_redirects=False)
                assert (redirect.status, redirect.headers["Location"]) == (301, "/shop/?x=1")
                script = await http.get(f"{base}/app.js")
                assert script.headers["Cache-Control"] == "no-store"
                image = await http.get(f"{base}/logo.png")
                assert "Cache-Control" not in image.headers and await image.read() == b"\x89PNG"
                assert (await http.get(f"{base}/../etc/passwd")).status == 404
                assert (await http.get(f"{base}/%2e%2e/%2e%2e/etc/passwd")).status == 404
                assert (await http.get(f"{base}/missing.html")).status == 404
                generated = await http.get(f"{base}/config.js")
                assert generated.headers["Cache-Control"] == "no-store"
                assert await generated.text() == config_script(config)
        finally:
            await runner.cleanup()

    asyncio.run(scenario())


def test_config_script_is_safe_inside_a_script_tag() -> None:
    script = config_script({"storeName": "</script><script>alert(1)</script>", "apiUrl": "x"})
    assert script.startswith("window.SHOPDESK_CONFIG = {") and script.endswith("};\n")
    assert "</script>" not in script and "<" not in script
    assert json.loads(script.removeprefix("window.SHOPDESK_CONFIG = ").rstrip(";\n"))["storeName"].startswith(
        "</script>"
    )
