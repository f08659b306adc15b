"""The WebSocket $connect authorizer: verifies the token once per connection.

Its context (role, user id, name) is attached by API Gateway to every later event of the connection.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from shopdesk.container import Container
from shopdesk.errors import DomainError

logger = Logger()
container = Container()


def policy(effect: str, resource: str, principal_id: str, context: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "principalId": principal_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
        "context": context or {},
    }


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    token = (event.get("queryStringParameters") or {}).get("token")
    try:
        principal = container.auth.authenticate(token)
    except DomainError as error:
        logger.info("connection refused", extra={"code": error.code})
        return policy("Deny", event["methodArn"], "anonymous", {"code": error.code})
    return policy(
        "Allow",
        event["methodArn"],
        principal.user_id,
        {
            "role": principal.role,
            "user_id": principal.user_id,
            "name": principal.name,
            "roles": ",".join(principal.roles),
        },
    )
