"""The local API Gateway, on one port: the REST API, the WebSocket API with its @connections
management API, and a small control API for tests and for SNS deliveries; plus the static web
server on another port.

Events and responses follow API Gateway's REST (v1) proxy and WebSocket formats, so the handlers
run unchanged. What is served comes from the template: REST routes from the functions' Api events,
WebSocket routes and the $connect authorizer from the ApiGatewayV2 resources.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import json
import logging
import secrets
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from aiohttp import WSCloseCode, WSMsgType, web
from multidict import CIMultiDict

from infra.local.events import ScheduleRunner, SnsSource, SqsPoller
from infra.local.handlers import LambdaRuntime
from infra.local.provision import Resources
from infra.local.template import CorsConfig, RestApiSpec, RestRoute, WebSocketApiSpec, WebSocketAuthorizer

log = logging.getLogger(__name__)

WS_MESSAGE_LIMIT = 128 * 1024  # API Gateway closes a connection with 1009 on a bigger message
POST_TO_CONNECTION_LIMIT = 128 * 1024
INTEGRATION_TIMEOUT = 29.0  # API Gateway gives up on an integration after 29 s
ALL_METHODS = "DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT"
# Hop-by-hop or recomputed headers that a handler must not dictate.
_DROPPED_RESPONSE_HEADERS = {"content-length", "transfer-encoding", "connection"}


def _now_ms() -> int:
    return int(time.time() * 1000)


def _request_time(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def _iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def new_connection_id() -> str:
    """16 URL-safe base64 characters, shaped like API Gateway's ids and safe in a URL path."""
    return base64.urlsafe_b64encode(secrets.token_bytes(12)).decode()


def _json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=json.dumps(body).encode(), content_type="application/json", headers=headers)


def _split_path(raw_path: str) -> list[str]:
    """Path segments, split before decoding so that an encoded slash stays inside its segment."""
    stripped = raw_path.split("?", 1)[0].strip("/")
    return [unquote(segment) for segment in stripped.split("/")] if stripped else []


def _request_headers(request: web.Request) -> tuple[dict[str, str], dict[str, list[str]]]:
    """API Gateway's ``headers`` (last value wins) and ``multiValueHeaders``."""
    multi: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        multi.setdefault(str(name), []).append(value)
    lower = {name.lower() for name in multi}
    # The edge adds these before the integration sees the request.
    if "x-forwarded-for" not in lower:
        multi["X-Forwarded-For"] = [request.remote or "127.0.0.1"]
    if "x-forwarded-proto" not in lower:
        multi["X-Forwarded-Proto"] = [request.scheme]
    if "x-forwarded-port" not in lower and request.url.port is not None:
        multi["X-Forwarded-Port"] = [str(request.url.port)]
    return {name: values[-1] for name, values in multi.items()}, multi


def _query(request: web.Request) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    multi: dict[str, list[str]] = {}
    for name, value in request.query.items():
        multi.setdefault(name, []).append(value)
    if not multi:
        return None, None
    return {name: values[-1] for name, values in multi.items()}, multi


_IDENTITY_KEYS = (
    "cognitoIdentityPoolId",
    "accountId",
    "cognitoIdentityId",
    "caller",
    "principalOrgId",
    "accessKey",
    "cognitoAuthenticationType",
    "cognitoAuthenticationProvider",
    "userArn",
    "user",
)


def _identity(source_ip: str, user_agent: str) -> dict[str, Any]:
    return {**dict.fromkeys(_IDENTITY_KEYS), "sourceIp": source_ip, "userAgent": user_agent}


def _status_code(result: Any) -> int | None:
    """A proxy result's statusCode, or None when it is malformed."""
    if not isinstance(result, dict):
        return None
    code = result.get("statusCode")
    if isinstance(code, int) and not isinstance(code, bool):
        return code
    if isinstance(code, str) and code.isdigit():
        return int(code)
    return None


# --------------------------------------------------------------------------- REST routing


def _segment_weight(segment: str) -> int:
    if segment.startswith("{") and segment.endswith("+}"):
        return 0
    if segment.startswith("{") and segment.endswith("}"):
        return 1
    return 2


def _match_path(template: list[str], segments: list[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for index, part in enumerate(template):
        weight = _segment_weight(part)
        if weight == 0:
            rest = segments[index:]
            if not rest:
                return None
            params[part[1:-2]] = "/".join(rest)
            return params
        if index >= len(segments) or (weight == 2 and part != segments[index]) or not segments[index]:
            return None
        if weight == 1:
            params[part[1:-1]] = segments[index]
    return params if len(segments) == len(template) else None


@dataclass(frozen=True)
class _Resource:
    path: str
    segments: list[str]
    methods: dict[str, RestRoute]


class RestRouter:
    """Matches paths to template resources as API Gateway does: literal, then {param}, then {proxy+}."""

    def __init__(self, routes: Sequence[RestRoute]) -> None:
        by_path: dict[str, dict[str, RestRoute]] = {}
        for route in routes:
            by_path.setdefault(route.path, {})[route.method] = route
        resources = [_Resource(path, _split_path(path), methods) for path, methods in by_path.items()]
        self.resources = sorted(
            resources,
            key=lambda resource: [_segment_weight(part) for part in resource.segments],
            reverse=True,
        )

    def match(self, segments: list[str]) -> tuple[_Resource, dict[str, str]] | None:
        for resource in self.resources:
            params = _match_path(resource.segments, segments)
            if params is not None:
                return resource, params
        return None


# --------------------------------------------------------------------------- settings and state


@dataclass(frozen=True)
class GatewaySettings:
    region: str
    account_id: str
    rest_api: RestApiSpec | None
    rest_stage: str
    rest_api_id: str
    websocket_api: WebSocketApiSpec | None
    websocket_stage: str | None
    websocket_api_id: str
    integration_timeout: float = INTEGRATION_TIMEOUT

    @classmethod
    def from_resources(cls, resources: Resources) -> GatewaySettings:
        rest, socket = resources.template.rest_api, resources.template.websocket_api
        rest_stage = str(resources.resolve(rest.stage_name)) if rest and rest.stage_name else "prod"
        socket_stage = socket.stage_name if socket else None
        return cls(
            region=resources.region,
            account_id=resources.account_id,
            rest_api=rest,
            rest_stage=rest_stage,
            rest_api_id=resources.refs.get(rest.logical_id, "local") if rest else "local",
            websocket_api=socket,
            websocket_stage=None if socket_stage is None else str(resources.resolve(socket_stage)),
            websocket_api_id=resources.refs.get(socket.logical_id, "local") if socket else "local",
        )


@dataclass
class Peer:
    """A WebSocket client, known from its upgrade request on."""

    connection_id: str
    connected_at: int
    source_ip: str
    user_agent: str
    domain: str
    authorizer: dict[str, Any] | None = None


@dataclass
class Connection:
    peer: Peer
    ws: web.WebSocketResponse
    last_active_at: int


class AuthorizerRefusedError(Exception):
    """The $connect authorizer said no; carries the HTTP status API Gateway answers with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _policy_allows(document: Any, method_arn: str) -> bool:
    """Evaluate an authorizer's IAM policy for ``execute-api:Invoke`` on ``method_arn``; Deny wins."""
    if not isinstance(document, dict):
        return False
    statements = document.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    allowed = False
    for statement in statements:
        actions = statement.get("Action", [])
        resources = statement.get("Resource", [])
        actions = [actions] if isinstance(actions, str) else actions
        resources = [resources] if isinstance(resources, str) else resources
        if not any(fnmatchcase("execute-api:Invoke", action) for action in actions):
            continue
        if not any(fnmatchcase(method_arn, resource) for resource in resources):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def _context_value(value: Any) -> str:
    """API Gateway hands the authorizer context to integrations as strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --------------------------------------------------------------------------- the gateway


class Gateway:
    """The REST API, WebSocket API, @connections and /_local control API of one template."""

    def __init__(
        self,
        settings: GatewaySettings,
        runtime: LambdaRuntime,
        *,
        schedules: ScheduleRunner | None = None,
        pollers: Sequence[SqsPoller] = (),
        sns_sources: Sequence[SnsSource] = (),
    ) -> None:
        self.settings = settings
        self.runtime = runtime
        self.schedules = schedules
        self.pollers = list(pollers)
        self.sns_sources = list(sns_sources)
        # SNS deliveries run after their POST is answered; kept here so they are not collected mid-run.
        self._background: set[asyncio.Task[Any]] = set()
        self.connections: dict[str, Connection] = {}
        self.router = RestRouter(settings.rest_api.routes if settings.rest_api else ())
        self._socket_paths = {"ws"} | ({settings.websocket_stage} if settings.websocket_stage else set())

    def app(self) -> web.Application:
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        app.on_shutdown.append(self._close_connections)
        app.on_shutdown.append(self._finish_background)
        return app

    def sns_path(self, source: SnsSource) -> str:
        """Where ``source``'s topic posts its notifications (under the /_local control API)."""
        return f"/_local/sns/{source.function}?event={source.event_name}"

    def _in_background(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def background_idle(self) -> None:
        """Wait until the SNS deliveries under way have finished (for tests and for shutdown)."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    async def _finish_background(self, _app: web.Application) -> None:
        try:
            await asyncio.wait_for(self.background_idle(), self.settings.integration_timeout)
        except TimeoutError:
            log.warning("%d SNS deliveries still running at shutdown", len(self._background))

    async def _invoke(self, function_id: str, event: Any) -> Any:
        return await asyncio.wait_for(self.runtime.invoke(function_id, event), self.settings.integration_timeout)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        segments = _split_path(request.raw_path)
        if segments[:1] == ["_local"]:
            return await self._control(request, segments[1:])
        if len(segments) >= 2 and segments[-2] == "@connections":
            stage_ok = len(segments) == 2 or segments[:1] == [self.settings.websocket_stage]
            if len(segments) <= 3 and stage_ok:
                return await self._manage_connection(request, segments[-1])
        upgrade = request.headers.get("Upgrade", "").lower() == "websocket"
        if upgrade and len(segments) == 1 and segments[0] in self._socket_paths and self.settings.websocket_api:
            return await self._websocket(request, self.settings.websocket_api)
        return await self._rest(request, segments)

    # ----------------------------------------------------------------------- REST

    async def _rest(self, request: web.Request, segments: list[str]) -> web.StreamResponse:
        api = self.settings.rest_api
        stage = self.settings.rest_stage
        # Served under /<stage>/... as on execute-api, and at the root as a convenience.
        candidates = [segments[1:], segments] if segments[:1] == [stage] else [segments]
        found = next(((path, match) for path in candidates if (match := self.router.match(path)) is not None), None)
        if api is None or found is None:
            return self._missing_token()
        path_segments, (resource, params) = found
        method = request.method.upper()
        route = resource.methods.get(method) or resource.methods.get("ANY")
        if route is None:
            if method == "OPTIONS" and api.cors is not None:
                return self._preflight(api.cors, resource)
            return self._missing_token()
        event = await self._rest_event(request, route, path_segments, params)
        try:
            result = await self._invoke(route.function, event)
        except TimeoutError:
            log.error("%s timed out after %.0f s", route.function, self.settings.integration_timeout)
            return _json_response(504, {"message": "Endpoint request timed out"})
        except Exception:
            log.exception("%s raised on %s %s", route.function, method, request.path)
            return _json_response(502, {"message": "Internal server error"})
        return self._proxy_response(result, route, api.cors, event["requestContext"]["requestId"])

    @staticmethod
    def _missing_token() -> web.Response:
        return _json_response(
            403,
            {"message": "Missing Authentication Token"},
            {"x-amzn-ErrorType": "MissingAuthenticationTokenException"},
        )

    @staticmethod
    def _preflight(cors: CorsConfig, resource: _Resource) -> web.Response:
        methods = set(resource.methods)
        headers = {
            "Access-Control-Allow-Origin": cors.allow_origin,
            "Access-Control-Allow-Methods": cors.allow_methods
            or (ALL_METHODS if "ANY" in methods else ",".join(sorted(methods | {"OPTIONS"}))),
        }
        if cors.allow_headers:
            headers["Access-Control-Allow-Headers"] = cors.allow_headers
        if cors.max_age:
            headers["Access-Control-Max-Age"] = cors.max_age
        if cors.allow_credentials:
            headers["Access-Control-Allow-Credentials"] = "true"
        return web.Response(status=200, headers=headers, content_type="application/json")

    async def _rest_event(
        self, request: web.Request, route: RestRoute, path_segments: list[str], params: dict[str, str]
    ) -> dict[str, Any]:
        headers, multi_headers = _request_headers(request)
        query, multi_query = _query(request)
        raw = await request.read()
        body: str | None = None
        is_base64 = False
        if raw:
            try:
                body = raw.decode("utf-8")
            except UnicodeDecodeError:
                body, is_base64 = base64.b64encode(raw).decode(), True
        now = _now_ms()
        request_id = str(uuid.uuid4())
        path = "/" + "/".join(path_segments)
        stage = self.settings.rest_stage
        return {
            "resource": route.path,
            "path": path,
            "httpMethod": request.method.upper(),
            "headers": headers,
            "multiValueHeaders": multi_headers,
            "queryStringParameters": query,
            "multiValueQueryStringParameters": multi_query,
            "pathParameters": params or None,
            "stageVariables": None,
            "requestContext": {
                "resourceId": secrets.token_hex(3),
                "resourcePath": route.path,
                "httpMethod": request.method.upper(),
                "extendedRequestId": request_id,
                "requestTime": _request_time(now),
                "path": f"/{stage}{path}",
                "accountId": self.settings.account_id,
                "protocol": f"HTTP/{request.version.major}.{request.version.minor}",
                "stage": stage,
                "domainPrefix": request.host.split(".")[0],
                "requestTimeEpoch": now,
                "requestId": request_id,
                "identity": _identity(request.remote or "127.0.0.1", request.headers.get("User-Agent", "")),
                "domainName": request.host,
                "apiId": self.settings.rest_api_id,
            },
            "body": body,
            "isBase64Encoded": is_base64,
        }

    @staticmethod
    def _proxy_response(result: Any, route: RestRoute, cors: CorsConfig | None, request_id: str) -> web.Response:
        status = _status_code(result)
        if not isinstance(result, dict) or status is None or not isinstance(result.get("body") or "", str):
            log.error("%s returned a malformed proxy response: %r", route.function, result)
            return _json_response(502, {"message": "Internal server error"})
        headers: CIMultiDict[str] = CIMultiDict()
        for name, values in (result.get("multiValueHeaders") or {}).items():
            for value in values or ():
                headers.add(name, str(value))
        for name, value in (result.get("headers") or {}).items():
            if name not in headers:  # multiValueHeaders win, as on API Gateway
                headers[name] = str(value)
        for name in list(headers):
            if name.lower() in _DROPPED_RESPONSE_HEADERS:
                headers.popall(name)
        headers.setdefault("Content-Type", "application/json")
        headers["x-amzn-RequestId"] = request_id
        if cors is not None:
            headers.setdefault("Access-Control-Allow-Origin", cors.allow_origin)
        text = result.get("body") or ""
        try:
            body = base64.b64decode(text, validate=True) if result.get("isBase64Encoded") else text.encode()
        except binascii.Error:
            log.error("%s returned isBase64Encoded with a body that is not base64", route.function)
            return _json_response(502, {"message": "Internal server error"})
        return web.Response(status=status, body=body, headers=headers)

    # ----------------------------------------------------------------------- WebSocket

    def _socket_context(self, peer: Peer, route_key: str, event_type: str, **extra: Any) -> dict[str, Any]:
        now = _now_ms()
        request_id = secrets.token_urlsafe(12)
        context: dict[str, Any] = {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": request_id,
            "requestTime": _request_time(now),
            "messageDirection": "IN",
            "stage": self.settings.websocket_stage or "ws",
            "connectedAt": peer.connected_at,
            "requestTimeEpoch": now,
            "identity": {"sourceIp": peer.source_ip, "userAgent": peer.user_agent},
            "requestId": request_id,
            "domainName": peer.domain,
            "connectionId": peer.connection_id,
            "apiId": self.settings.websocket_api_id,
            **extra,
        }
        if peer.authorizer is not None:
            context["authorizer"] = peer.authorizer
        return context

    async def _authorize(self, authorizer: WebSocketAuthorizer, peer: Peer, upgrade: dict[str, Any]) -> dict[str, Any]:
        """Run the REQUEST authorizer; its context rides on every later event of the connection."""
        for kind, name in authorizer.identity_sources:
            source = upgrade["headers"] if kind == "header" else upgrade["queryStringParameters"] or {}
            present = {key.lower(): value for key, value in source.items()} if kind == "header" else source
            if not present.get(name.lower() if kind == "header" else name):
                raise AuthorizerRefusedError(401, "Unauthorized")
        method_arn = (
            f"arn:aws:execute-api:{self.settings.region}:{self.settings.account_id}:"
            f"{self.settings.websocket_api_id}/{self.settings.websocket_stage or 'ws'}/$connect"
        )
        event = {
            "type": "REQUEST",
            "methodArn": method_arn,
            **upgrade,
            "stageVariables": {},
            "requestContext": self._socket_context(peer, "$connect", "CONNECT"),
        }
        try:
            result = await self._invoke(authorizer.function, event)
        except Exception as error:
            if str(error) == "Unauthorized":  # the documented way for an authorizer to answer 401
                raise AuthorizerRefusedError(401, "Unauthorized") from error
            log.exception("authorizer %s raised", authorizer.function)
            raise AuthorizerRefusedError(500, "Internal server error") from error
        if not isinstance(result, dict) or not _policy_allows(result.get("policyDocument"), method_arn):
            raise AuthorizerRefusedError(403, "Forbidden")
        context = {key: _context_value(value) for key, value in (result.get("context") or {}).items()}
        return {**context, "principalId": str(result.get("principalId", ""))}

    async def _websocket(self, request: web.Request, api: WebSocketApiSpec) -> web.StreamResponse:
        peer = Peer(
            connection_id=new_connection_id(),
            connected_at=_now_ms(),
            source_ip=request.remote or "127.0.0.1",
            user_agent=request.headers.get("User-Agent", ""),
            domain=request.host,
        )
        headers, multi_headers = _request_headers(request)
        query, multi_query = _query(request)
        upgrade = {
            "headers": headers,
            "multiValueHeaders": multi_headers,
            "queryStringParameters": query,
            "multiValueQueryStringParameters": multi_query,
        }
        connect = api.route("$connect")
        protocols: tuple[str, ...] = ()
        if connect is not None:
            try:
                if connect.authorizer is not None:
                    peer.authorizer = await self._authorize(connect.authorizer, peer, upgrade)
                event = {
                    **upgrade,
                    "requestContext": self._socket_context(peer, "$connect", "CONNECT"),
                    "isBase64Encoded": False,
                }
                result = await self._invoke(connect.function, event)
            except AuthorizerRefusedError as refused:
                return _json_response(refused.status, {"message": str(refused)})
            except Exception:
                log.exception("%s raised on $connect", connect.function)
                return _json_response(500, {"message": "Internal server error"})
            status = _status_code(result) or 200
            if status >= 300:
                body = result.get("body") if isinstance(result, dict) else None
                return web.Response(status=status, text=body if isinstance(body, str) else "")
            protocol = ((result or {}).get("headers") or {}).get("Sec-WebSocket-Protocol")
            protocols = (protocol,) if protocol else ()
        ws = web.WebSocketResponse(max_msg_size=WS_MESSAGE_LIMIT, protocols=protocols)
        await ws.prepare(request)
        connection = Connection(peer, ws, _now_ms())
        self.connections[peer.connection_id] = connection
        try:
            # One frame at a time, in order, as API Gateway delivers a connection's messages.
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    await self._on_message(api, connection, message.data, is_base64=False)
                elif message.type == WSMsgType.BINARY:
                    await self._on_message(api, connection, base64.b64encode(message.data).decode(), is_base64=True)
                elif message.type == WSMsgType.ERROR:
                    break
        finally:
            self.connections.pop(peer.connection_id, None)
            # Shielded: $disconnect must still run when the server shuts the handler down.
            await asyncio.shield(self._disconnect(api, peer, ws.close_code))
        return ws

    def select_route(self, api: WebSocketApiSpec, body: str, is_base64: bool) -> str:
        """The route key that the RouteSelectionExpression picks, else ``$default``."""
        if not is_base64:
            try:
                value: Any = json.loads(body)
            except ValueError:
                value = None
            for key in api.selection_path:
                value = value.get(key) if isinstance(value, dict) else None
            if isinstance(value, str) and not value.startswith("$") and api.route(value) is not None:
                return value
        return "$default"

    async def _on_message(self, api: WebSocketApiSpec, connection: Connection, body: str, *, is_base64: bool) -> None:
        connection.last_active_at = _now_ms()
        peer = connection.peer
        route_key = self.select_route(api, body, is_base64)
        route = api.route(route_key)
        context = self._socket_context(peer, route_key, "MESSAGE", messageId=secrets.token_urlsafe(12))
        if route is None:
            await self._send_error(connection, "Forbidden", context["requestId"])
            return
        event = {"requestContext": context, "body": body, "isBase64Encoded": is_base64}
        try:
            await self._invoke(route.function, event)
        except TimeoutError:
            log.error("%s timed out on %s", route.function, route_key)
            await self._send_error(connection, "Endpoint request timed out", context["requestId"])
        except Exception:
            log.exception("%s raised on %s", route.function, route_key)
            await self._send_error(connection, "Internal server error", context["requestId"])

    async def _send_error(self, connection: Connection, message: str, request_id: str) -> None:
        frame = {"message": message, "connectionId": connection.peer.connection_id, "requestId": request_id}
        if not connection.ws.closed:
            await connection.ws.send_str(json.dumps(frame))

    async def _disconnect(self, api: WebSocketApiSpec, peer: Peer, close_code: int | None) -> None:
        route = api.route("$disconnect")
        if route is None:
            return
        code = close_code if close_code is not None else WSCloseCode.ABNORMAL_CLOSURE
        context = self._socket_context(
            peer, "$disconnect", "DISCONNECT", disconnectStatusCode=int(code), disconnectReason=""
        )
        event = {
            "headers": {"Host": peer.domain, "User-Agent": peer.user_agent},
            "multiValueHeaders": {"Host": [peer.domain], "User-Agent": [peer.user_agent]},
            "requestContext": context,
            "isBase64Encoded": False,
        }
        try:
            await self._invoke(route.function, event)
        except Exception:
            log.exception("%s raised on $disconnect", route.function)

    async def _close_connections(self, _app: web.Application) -> None:
        for connection in list(self.connections.values()):
            await connection.ws.close(code=WSCloseCode.GOING_AWAY, message=b"Server shutting down")

    # ----------------------------------------------------------------------- @connections

    async def _manage_connection(self, request: web.Request, connection_id: str) -> web.StreamResponse:
        """The API Gateway Management API (post_to_connection, get_connection, delete_connection)."""
        connection = self.connections.get(connection_id)
        if connection is not None and connection.ws.closed:
            connection = None
        method = request.method.upper()
        if method == "POST":
            data = await request.read()
            if len(data) > POST_TO_CONNECTION_LIMIT:
                return self._management_error(413, "PayloadTooLargeException", "Payload too large")
            if connection is None:
                return self._gone()
            try:
                try:
                    await connection.ws.send_str(data.decode("utf-8"))
                except UnicodeDecodeError:
                    await connection.ws.send_bytes(data)
            except ConnectionError:
                return self._gone()
            connection.last_active_at = _now_ms()
            return web.Response(status=200)
        if connection is None:
            return self._gone()
        if method == "GET":
            peer = connection.peer
            return _json_response(
                200,
                {
                    "connectedAt": _iso(peer.connected_at),
                    "identity": {"sourceIp": peer.source_ip, "userAgent": peer.user_agent},
                    "lastActiveAt": _iso(connection.last_active_at),
                },
            )
        if method == "DELETE":
            await connection.ws.close(code=WSCloseCode.OK)
            return web.Response(status=204)
        return self._missing_token()

    @staticmethod
    def _management_error(status: int, error_type: str, message: str | None) -> web.Response:
        # botocore takes the error code from this header, which makes client.exceptions.<Type> work.
        return _json_response(status, {"message": message}, {"x-amzn-errortype": error_type})

    def _gone(self) -> web.Response:
        return self._management_error(410, "GoneException", None)

    # ----------------------------------------------------------------------- /_local control API

    async def _control(self, request: web.Request, segments: list[str]) -> web.StreamResponse:
        if request.method == "POST" and len(segments) == 2 and segments[0] == "schedules":
            if self.schedules is None:
                return _json_response(404, {"message": "no schedules are running"})
            try:
                result = await self.schedules.fire(segments[1], request.query.get("event"))
            except KeyError as missing:
                return _json_response(404, {"message": str(missing.args[0])})
            except Exception as error:
                log.exception("scheduled %s raised", segments[1])
                return _json_response(502, {"message": "Internal server error", "error": repr(error)})
            return web.Response(body=json.dumps(result, default=str).encode(), content_type="application/json")
        if request.method == "POST" and segments == ["queues", "drain"]:
            results = await asyncio.gather(*(poller.poll_once(wait_seconds=0) for poller in self.pollers))
            return _json_response(200, {"results": [dataclasses.asdict(result) for result in results]})
        if request.method == "GET" and segments == ["connections"]:
            return _json_response(200, {"connections": sorted(self.connections)})
        if request.method == "POST" and len(segments) == 2 and segments[0] == "sns":
            return await self._sns(request, segments[1], request.query.get("event"))
        return _json_response(404, {"message": "unknown control endpoint"})

    async def _sns(self, request: web.Request, function_id: str, event_name: str | None) -> web.StreamResponse:
        """An SNS HTTP(S) delivery for ``function_id``'s SNS event: answered at once, invoked afterwards.

        SNS (and moto, which posts from inside the Publish call) waits for this answer; invoking the
        function first would hold the publisher for as long as the function runs.
        """
        source = next(
            (
                source
                for source in self.sns_sources
                if source.function == function_id and event_name in (None, source.event_name)
            ),
            None,
        )
        if source is None:
            return _json_response(
                404, {"message": f"{function_id} has no SNS event{f' {event_name}' if event_name else ''}"}
            )
        try:
            # SNS posts JSON as text/plain, so the content type says nothing.
            message = json.loads(await request.read())
        except ValueError:
            return _json_response(400, {"message": "the body is not an SNS message"})
        kind = request.headers.get("x-amz-sns-message-type") or (
            message.get("Type") if isinstance(message, dict) else None
        )
        if not isinstance(message, dict) or kind not in (
            "Notification",
            "SubscriptionConfirmation",
            "UnsubscribeConfirmation",
        ):
            return _json_response(400, {"message": "the body is not an SNS message"})
        if kind == "SubscriptionConfirmation":
            self._in_background(source.confirm(message))
        elif kind == "Notification":
            if not all(isinstance(message.get(key), str) for key in ("MessageId", "TopicArn", "Message", "Timestamp")):
                return _json_response(
                    400, {"message": "an SNS notification needs MessageId, TopicArn, Message and Timestamp"}
                )
            self._in_background(source.deliver(message, request.headers.get("x-amz-sns-subscription-arn")))
        return web.Response(status=200)


# --------------------------------------------------------------------------- web


_NO_STORE = {"Cache-Control": "no-store"}
_TEXT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
}


def config_script(config: Mapping[str, Any]) -> str:
    """``window.SHOPDESK_CONFIG = {...};`` with JSON that is also safe inside a <script> tag."""
    encoded = json.dumps(dict(config), ensure_ascii=True)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        encoded = encoded.replace(char, escape)
    return f"window.SHOPDESK_CONFIG = {encoded};\n"


def create_web_app(web_root: Path, config: Mapping[str, Any]) -> web.Application:
    """Serve ``web_root`` statically (index.html for folders) and the generated ``/config.js``."""
    root = web_root.resolve()
    script = config_script(config)

    async def config_js(_request: web.Request) -> web.Response:
        return web.Response(text=script, content_type="text/javascript", charset="utf-8", headers=_NO_STORE)

    async def static(request: web.Request) -> web.StreamResponse:
        target = (root / request.match_info["tail"]).resolve()
        if not target.is_relative_to(root):
            raise web.HTTPNotFound()
        if target.is_dir():
            if not request.path.endswith("/"):
                # Relative links in the page resolve against the folder only with the slash.
                query = f"?{request.query_string}" if request.query_string else ""
                raise web.HTTPMovedPermanently(location=f"{request.rel_url.raw_path}/{query}")
            target = target / "index.html"
        if not target.is_file():
            raise web.HTTPNotFound()
        headers: dict[str, str] = {}
        if target.suffix in _TEXT_TYPES:
            headers["Content-Type"] = _TEXT_TYPES[target.suffix]
        if target.suffix in (".html", ".js", ".mjs"):
            headers.update(_NO_STORE)
        return web.FileResponse(target, headers=headers)

    app = web.Application()
    app.router.add_get("/config.js", config_js)
    app.router.add_get("/{tail:.*}", static)
    return app
