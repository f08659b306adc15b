"""Staff login (Cognito USER_PASSWORD_AUTH) and visitor tokens."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field
from shopdesk import aws
from shopdesk.container import Container
from shopdesk.errors import InvalidCredentials
from shopdesk.http import create_app
from shopdesk.views import agent_view

logger = Logger()
metrics = Metrics()
container = Container()
app = create_app(lambda: container, public=True)


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=256)


class ShopUser(BaseModel):
    user_id: str = Field(min_length=1, max_length=128)
    ts: int
    signature: str = Field(min_length=64, max_length=64)


class VisitorTokenRequest(BaseModel):
    visitor_token: str | None = Field(default=None, max_length=4096)
    shop_user: ShopUser | None = None
    name: str = Field(default="", max_length=64)


@app.post("/auth/login", summary="Log a staff member in", tags=["auth"])
def login(body: Annotated[LoginRequest, Body()]) -> dict[str, Any]:
    cognito = aws.client("cognito-idp")
    try:
        result = cognito.initiate_auth(
            ClientId=container.settings.user_pool_client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": body.username, "PASSWORD": body.password},
        )["AuthenticationResult"]
    except (cognito.exceptions.NotAuthorizedException, cognito.exceptions.UserNotFoundException) as error:
        raise InvalidCredentials("Wrong username or password.") from error
    principal = container.auth.authenticate(result["IdToken"], allow_visitors=False)
    profile = container.staff.require(principal.user_id)
    return {
        "id_token": result["IdToken"],
        "refresh_token": result.get("RefreshToken"),
        "expires_in": result["ExpiresIn"],
        "user": {**agent_view(profile), "id": principal.user_id, "roles": list(principal.roles)},
    }


@app.post("/visitor/token", summary="Get a visitor token", tags=["visitor"])
def visitor_token(body: Annotated[VisitorTokenRequest, Body()]) -> dict[str, Any]:
    shop_user = (body.shop_user.user_id, body.shop_user.ts, body.shop_user.signature) if body.shop_user else None
    token, visitor_id, lifetime = container.visitor_ids.issue(body.visitor_token, shop_user, body.name)
    return {"token": token, "visitor_id": visitor_id, "expires_in": lifetime}


@app.get("/ticket-link/<ticket_id>", summary="A ticket by its link, for the customer", tags=["visitor"])
def ticket_link(
    ticket_id: Annotated[str, Path(min_length=1, max_length=64)],
    key: Annotated[str, Query(min_length=1, max_length=64)],
) -> dict[str, Any]:
    ticket = container.tickets.by_link(ticket_id, key)
    events = container.tickets.timeline(None, ticket, 200, None).items
    return {
        "ticket": container.tickets.view(ticket, public=True),
        "timeline": [container.tickets.event_view(e) for e in events],
    }


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
