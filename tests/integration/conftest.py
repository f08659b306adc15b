"""Handlers called with API Gateway-shaped events, against moto, on resources built from template.yaml.

A small HTTP server stands in for API Gateway's @connections API, so tests read what each
connection was sent and can make a connection go stale (410 Gone).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.local.handlers import load_handler, module_name
from infra.local.moto_backend import BackgroundBackend, enable_step_functions
from infra.local.provision import Resources, create_tables, provision
from infra.local.template import Template, load_template

ROOT = Path(__file__).resolve().parents[2]
REGION = "ap-southeast-1"
PARAMS = {"StoreId": "itest", "StoreName": "测试店", "AlertEmail": "ops@example.com"}
PASSWORD = "Test-pass-2026"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ConnectionsApi:
    """Records frames per connection id; ids not marked open answer 410 Gone, like API Gateway."""

    def __init__(self) -> None:
        self.open: set[str] = set()
        self.frames: dict[str, list[dict[str, Any]]] = defaultdict(list)
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _connection_id(self) -> str:
                return self.path.rsplit("/@connections/", 1)[-1]

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                connection_id = self._connection_id()
                if connection_id not in recorder.open:
                    self.send_response(410)
                    self.send_header("x-amzn-ErrorType", "GoneException")
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"message": null}')
                    return
                recorder.frames[connection_id].append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def do_DELETE(self) -> None:
                recorder.open.discard(self._connection_id())
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/test"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def of_type(self, connection_id: str, frame_type: str) -> list[dict[str, Any]]:
        return [frame for frame in self.frames[connection_id] if frame.get("type") == frame_type]

    def reset(self) -> None:
        self.open.clear()
        self.frames.clear()


@dataclass
class Stack:
    template: Template
    resources: Resources
    endpoint: str
    connections: ConnectionsApi
    handlers: dict[str, Any] = field(default_factory=dict)

    def module(self, function_id: str) -> Any:
        return sys.modules[module_name(function_id)]

    def invoke(self, function_id: str, event: dict[str, Any]) -> Any:
        return self.handlers[function_id](event, LambdaContext(function_id))


class LambdaContext:
    def __init__(self, function_id: str) -> None:
        self.function_name = function_id
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:{function_id}"
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 28_000


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = free_port()
    server = BackgroundBackend("127.0.0.1", port).start()
    endpoint = server.url
    enable_step_functions(endpoint)  # before provisioning: the machine must live in the executing backend
    os.environ.update(
        MOTO_PORT=str(port),
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
        AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
        POWERTOOLS_METRICS_DISABLED="true",
        POWERTOOLS_TRACE_DISABLED="true",
        LOG_LEVEL="WARNING",
    )
    template = load_template(ROOT / "template.yaml")
    resources = provision(template, endpoint, PARAMS, region=REGION)
    connections = ConnectionsApi()
    overrides = {"WS_CALLBACK_URL": connections.url}
    for function_id in template.functions:
        os.environ.update(resources.function_environment(function_id, overrides))
    from shopdesk.config import get_settings

    get_settings.cache_clear()
    built = Stack(template, resources, endpoint, connections)
    for function_id, spec in template.functions.items():
        for layer in template.layer_dirs(function_id):
            if str(layer) not in sys.path:
                sys.path.append(str(layer))
        built.handlers[function_id] = load_handler(
            ROOT / str(spec.code_uri), str(spec.handler), module_name(function_id)
        )
    yield built
    connections.server.shutdown()
    server.stop()


@pytest.fixture
def clock() -> Any:
    from shopdesk.clock import FixedClock

    return FixedClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def world(stack: Stack, clock: Any) -> Iterator[World]:
    """A fresh table, fresh containers on the test's clock, and a clean @connections recorder."""
    from shopdesk.container import Container

    dynamodb = boto3.client("dynamodb", endpoint_url=stack.endpoint)
    table = stack.resources.refs["DataTable"]
    dynamodb.delete_table(TableName=table)
    create_tables(stack.template, dynamodb, PARAMS, names={"DataTable": table})
    stack.connections.reset()
    for function_id in stack.handlers:
        stack.module(function_id).container = Container(clock=clock)
    yield World(stack, Container(clock=clock), clock)


@pytest.fixture
def opened_chat(world: World) -> tuple[World, Person, Person, str]:
    """A presales agent online and connected, and a connected visitor with an open session."""
    world.group("presales", ["尺码"], default=True)
    agent = world.staff(groups=("presales",))
    agent.connect()
    visitor = world.visitor()
    visitor.connect()
    return world, agent, visitor, visitor.open_session()


class World:
    """Helpers that drive the handlers the way API Gateway would."""

    def __init__(self, stack: Stack, container: Any, clock: Any) -> None:
        self.stack = stack
        self.container = container
        self.clock = clock
        self.connections = stack.connections
        self._cognito = boto3.client("cognito-idp", endpoint_url=stack.endpoint)

    # --- people -------------------------------------------------------------------------------

    def group(self, group_id: str, keywords: list[str], strategy: str = "least_busy", default: bool = False) -> None:
        self.container.staff.put_group(group_id, group_id, keywords, strategy, [], default)

    def staff(
        self,
        role: str = "agent",
        groups: tuple[str, ...] = (),
        capacity: int = 5,
        level: int = 1,
        online: bool = True,
    ) -> Person:
        username = f"{role}-{uuid.uuid4().hex[:8]}"
        agent = self.container.staff.create(username, username, PASSWORD, role, list(groups), capacity, level)
        if online:
            self.container.staff.set_status(agent.agent_id, "online")
        token = self.login(username)
        return Person(self, agent.agent_id, token, role)

    def login(self, username: str, password: str = PASSWORD) -> str:
        response = self.rest("AuthFunction", "POST", "/auth/login", body={"username": username, "password": password})
        assert response["statusCode"] == 200, response
        return str(json.loads(response["body"])["id_token"])

    def visitor(self) -> Person:
        response = self.rest("AuthFunction", "POST", "/visitor/token", body={})
        body = json.loads(response["body"])
        return Person(self, body["visitor_id"], body["token"], "visitor")

    # --- REST ---------------------------------------------------------------------------------

    def rest(
        self,
        function_id: str,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        query: dict[str, str] | None = None,
        raw_body: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        headers = {"Content-Type": "application/json", "Host": "api.local", **(headers or {})}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        event = {
            "resource": path,
            "path": path,
            "httpMethod": method,
            "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": query,
            "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
            "pathParameters": None,
            "stageVariables": None,
            "body": raw_body if raw_body is not None else (json.dumps(body) if body is not None else None),
            "isBase64Encoded": False,
            "requestContext": {
                "resourcePath": path,
                "httpMethod": method,
                "path": f"/prod{path}",
                "stage": "prod",
                "requestId": str(uuid.uuid4()),
                "identity": {"sourceIp": "127.0.0.1"},
            },
        }
        result: dict[str, Any] = self.stack.invoke(function_id, event)
        return result

    # --- WebSocket ----------------------------------------------------------------------------

    def connect(self, token: str) -> tuple[str, dict[str, Any]]:
        """Runs the $connect authorizer, then $connect; returns the connection id and its context."""
        connection_id = uuid.uuid4().hex[:16]
        decision = self.authorize(token)
        statement = decision["policyDocument"]["Statement"][0]
        assert statement["Effect"] == "Allow", decision
        context = {**decision["context"], "principalId": decision["principalId"]}
        self.stack.connections.open.add(connection_id)
        self.ws("$connect", connection_id, context)
        return connection_id, context

    def authorize(self, token: str | None) -> dict[str, Any]:
        event = {
            "type": "REQUEST",
            "methodArn": f"arn:aws:execute-api:{REGION}:123456789012:api/prod/$connect",
            "queryStringParameters": {"token": token} if token else {},
            "headers": {},
            "requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "connectionId": "pending"},
        }
        result: dict[str, Any] = self.stack.invoke("SocketAuthorizerFunction", event)
        return result

    def ws(
        self, route_key: str, connection_id: str, context: dict[str, Any], body: str | None = None
    ) -> dict[str, Any]:
        event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route_key, "MESSAGE")
        event = {
            "requestContext": {
                "routeKey": route_key,
                "eventType": event_type,
                "connectionId": connection_id,
                "messageId": uuid.uuid4().hex,
                "domainName": "ws.local",
                "stage": "prod",
                "requestId": uuid.uuid4().hex,
                "authorizer": context,
            },
            "body": body,
            "isBase64Encoded": False,
        }
        result: dict[str, Any] = self.stack.invoke("ChatSocketFunction", event)
        return result


class Person:
    """A visitor or staff member with a token and, once connected, WebSocket connections."""

    def __init__(self, world: World, user_id: str, token: str, role: str) -> None:
        self.world = world
        self.id = user_id
        self.token = token
        self.role = role
        self.connections: list[tuple[str, dict[str, Any]]] = []

    def connect(self) -> str:
        connection = self.world.connect(self.token)
        self.connections.append(connection)
        return connection[0]

    def send(self, action: str, connection: int = 0, **fields: Any) -> list[dict[str, Any]]:
        """Sends a frame on one connection; returns the frames that connection received for it."""
        connection_id, context = self.connections[connection]
        before = len(self.world.connections.frames[connection_id])
        self.world.ws(action, connection_id, context, json.dumps({"action": action, **fields}))
        return self.world.connections.frames[connection_id][before:]

    def raw(self, body: str, connection: int = 0) -> list[dict[str, Any]]:
        connection_id, context = self.connections[connection]
        before = len(self.world.connections.frames[connection_id])
        self.world.ws("$default", connection_id, context, body)
        return self.world.connections.frames[connection_id][before:]

    def frames(self, frame_type: str, connection: int = 0) -> list[dict[str, Any]]:
        return self.world.connections.of_type(self.connections[connection][0], frame_type)

    def get(self, function_id: str, path: str, **query: Any) -> tuple[int, Any]:
        response = self.world.rest(
            function_id, "GET", path, token=self.token, query={k: str(v) for k, v in query.items()} or None
        )
        return response["statusCode"], json.loads(response["body"])

    def call(self, function_id: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        response = self.world.rest(function_id, method, path, body=body, token=self.token)
        return response["statusCode"], json.loads(response["body"]) if response.get("body") else None

    def open_session(self, channel: str = "web") -> str:
        frames = self.send("openSession", channel=channel, page="https://shop.example/item/1")
        return str(frames[-1]["session"]["session_id"])

    def say(self, session_id: str, text: str, client_msg_id: str | None = None, connection: int = 0) -> dict[str, Any]:
        frames = self.send(
            "sendMessage",
            connection=connection,
            session_id=session_id,
            client_msg_id=client_msg_id or uuid.uuid4().hex,
            kind="text",
            text=text,
        )
        replies = [f for f in frames if f["type"] in ("ack", "error")]
        return replies[-1]
