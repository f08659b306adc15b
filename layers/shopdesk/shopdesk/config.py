"""Typed settings, read once from the environment that template.yaml (or the local stack) sets."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    store_id: str
    store_name: str
    region: str
    table_name: str
    user_pool_id: str
    user_pool_client_id: str
    store_secret_id: str
    uploads_bucket: str
    reminder_queue_url: str
    ws_callback_url: str
    sla_state_machine_arn: str = ""
    supervisor_topic_arn: str = ""
    cognito_endpoint: str | None = None
    max_message_chars: int = 4000
    max_frame_bytes: int = 32 * 1024
    max_image_bytes: int = 5 * 1024 * 1024
    visitor_token_hours: int = 24 * 30

    @property
    def issuer(self) -> str:
        """What Cognito puts in `iss`: always the AWS-style URL, also on moto."""
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    @property
    def jwks_url(self) -> str:
        # An endpoint override (AWS_ENDPOINT_URL_COGNITO_IDP or AWS_ENDPOINT_URL) serves JWKS under
        # the same path, as moto does; otherwise the keys live at the issuer.
        base = self.cognito_endpoint.rstrip("/") if self.cognito_endpoint else self.issuer.rsplit("/", 1)[0]
        return f"{base}/{self.user_pool_id}/.well-known/jwks.json"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        return cls(
            store_id=env["STORE_ID"],
            store_name=env.get("STORE_NAME", env["STORE_ID"]),
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION", "ap-southeast-1"),
            table_name=env["TABLE_NAME"],
            user_pool_id=env["USER_POOL_ID"],
            user_pool_client_id=env["USER_POOL_CLIENT_ID"],
            store_secret_id=env["STORE_SECRET_ID"],
            uploads_bucket=env["UPLOADS_BUCKET"],
            reminder_queue_url=env["REMINDER_QUEUE_URL"],
            ws_callback_url=env["WS_CALLBACK_URL"],
            sla_state_machine_arn=env.get("SLA_STATE_MACHINE_ARN", ""),
            supervisor_topic_arn=env.get("SUPERVISOR_TOPIC_ARN", ""),
            cognito_endpoint=env.get("AWS_ENDPOINT_URL_COGNITO_IDP") or env.get("AWS_ENDPOINT_URL"),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env(os.environ)
