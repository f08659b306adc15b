"""boto3 clients, made once per container. Endpoints come from the environment (AWS_ENDPOINT_URL…)."""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

_clients: dict[tuple[str, str | None], Any] = {}
_session: boto3.session.Session | None = None
_lock = threading.Lock()
_config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)


def client(service: str, endpoint_url: str | None = None) -> Any:
    """One session for all clients: each session would load the service models again."""
    global _session
    key = (service, endpoint_url)
    with _lock:
        if key not in _clients:
            _session = _session or boto3.session.Session()
            _clients[key] = _session.client(service, endpoint_url=endpoint_url, config=_config)
        return _clients[key]
