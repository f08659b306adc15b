"""A small router for API Gateway WebSocket events, in the spirit of Powertools' REST resolver.

The $connect authorizer's context (role, user id, name) rides on every later event of the
connection, so no frame needs a lookup to know who sent it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from shopdesk.auth import Principal
from shopdesk.container import Container
from shopdesk.errors import DomainError, FrameTooLarge, InvalidJson, UnknownRoute, ValidationFailed

Handler = Callable[["SocketRequest"], dict[str, Any] | None]


class SocketRequest:
    def __init__(self, event: dict[str, Any], frame: dict[str, Any], principal: Principal) -> None:
        self.event = event
        self.frame = frame
        self.principal = principal
        self.connection_id: str = event["requestContext"]["connectionId"]

    def parse[M: BaseModel](self, model: type[M]) -> M:
        try:
            return model.model_validate(self.frame)
        except ValidationError as error:
            problems = [
                {"field": ".".join(str(p) for p in problem["loc"]), "problem": problem["msg"]}
                for problem in error.errors()
            ]
            raise ValidationFailed("Some fields are missing or invalid.", fields=problems) from error


def principal_from_context(request_context: dict[str, Any]) -> Principal:
    context = request_context.get("authorizer") or {}
    roles = tuple(filter(None, str(context.get("roles", "")).split(",")))
    return Principal(role=context["role"], user_id=context["user_id"], name=context.get("name", ""), roles=roles)


class SocketApp:
    def __init__(self, container: Callable[[], Container]) -> None:
        self._container = container
        self._routes: dict[str, Handler] = {}
        self._lifecycle: dict[str, Callable[[dict[str, Any], Principal], None]] = {}

    def route(self, action: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self._routes[action] = handler
            return handler

        return register

    def on(self, route_key: str) -> Callable[[Callable[[dict[str, Any], Principal], None]], Any]:
        def register(handler: Callable[[dict[str, Any], Principal], None]) -> Any:
            self._lifecycle[route_key] = handler
            return handler

        return register

    def resolve(self, event: dict[str, Any]) -> dict[str, Any]:
        request_context = event["requestContext"]
        route_key = request_context["routeKey"]
        principal = principal_from_context(request_context)
        if route_key in self._lifecycle:
            self._lifecycle[route_key](event, principal)
            return {"statusCode": 200}
        connection_id = request_context["connectionId"]
        request_id = None
        try:
            frame = self._frame(event.get("body"))
            request_id = frame.get("request_id")
            action = frame.get("action")
            handler = self._routes.get(action) if isinstance(action, str) else None
            if handler is None:
                raise UnknownRoute(f"Unknown action {action!r}.", actions=sorted(self._routes))
            reply = handler(SocketRequest(event, frame, principal))
        except DomainError as error:
            body = {"type": "error", **error.to_body(), "request_id": request_id}
            self._container().connections.post(connection_id, body)
            return {"statusCode": error.status}
        if reply is not None:
            self._container().connections.post(connection_id, {**reply, "request_id": request_id})
        return {"statusCode": 200}

    def _frame(self, body: str | None) -> dict[str, Any]:
        raw = body or ""
        if len(raw.encode()) > self._container().settings.max_frame_bytes:
            raise FrameTooLarge("A frame holds at most 32 KB.")
        try:
            frame = json.loads(raw)
        except ValueError as error:
            raise InvalidJson("The frame is not valid JSON.") from error
        if not isinstance(frame, dict):
            raise InvalidJson("A frame is a JSON object with an action.")
        return frame
