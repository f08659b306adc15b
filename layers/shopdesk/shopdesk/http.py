"""The REST side: one resolver factory, one place that maps domain errors to HTTP, one auth middleware."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from shopdesk.auth import Principal
from shopdesk.container import Container
from shopdesk.errors import DomainError, Forbidden

DEFAULT_PAGE = 50
MAX_PAGE = 200


def error_response(status: int, code: str, message: str, **details: Any) -> Response[str]:
    body: dict[str, Any] = {"code": code, "message": message, **({"details": details} if details else {})}
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, ensure_ascii=False),
    )


def create_app(
    container: Callable[[], Container], public: bool = False, visitors: bool = True
) -> APIGatewayRestResolver:
    """A resolver with validation, CORS, error mapping and (unless public) token checks on every route."""
    app = APIGatewayRestResolver(
        enable_validation=True,
        cors=CORSConfig(allow_origin="*", allow_headers=["Authorization", "Content-Type"], max_age=600),
    )

    @app.exception_handler(DomainError)
    def domain_error(error: DomainError) -> Response[str]:
        return error_response(error.status, error.code, error.message, **error.details)

    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response[str]:
        problems = error.errors()
        if any(problem.get("type") == "json_invalid" for problem in problems):
            return error_response(400, "invalid_json", "The body is not valid JSON.")
        fields = [
            {
                "field": ".".join(str(part) for part in problem.get("loc", ())[1:]),
                "problem": problem.get("msg", ""),
            }
            for problem in problems
        ]
        return error_response(422, "validation_error", "Some fields are missing or invalid.", fields=fields)

    @app.not_found
    def unknown_route(_: NotFoundError) -> Response[str]:
        return error_response(404, "not_found", "No such route.")

    if not public:

        def authenticate(resolver: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
            header = resolver.current_event.headers.get("Authorization")
            principal = container().auth.authenticate(header, allow_visitors=visitors)
            resolver.append_context(principal=principal)
            return next_middleware(resolver)

        app.use(middlewares=[authenticate])
    return app


def principal_of(app: APIGatewayRestResolver) -> Principal:
    principal = app.context.get("principal")
    if not isinstance(principal, Principal):
        raise Forbidden("No caller on this request.")
    return principal


def page_size(limit: int | None) -> int:
    return max(1, min(limit or DEFAULT_PAGE, MAX_PAGE))
