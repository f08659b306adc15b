"""Delivery to open WebSocket connections through API Gateway's @connections API."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any

from aws_lambda_powertools import Logger

from shopdesk import keys
from shopdesk.clock import Clock, iso
from shopdesk.db import transaction
from shopdesk.models import ConnectionModel, ConnectionSetModel
from shopdesk.repositories import ConnectionRepository

logger = Logger(child=True)

# API Gateway drops a connection after 2 hours; the record outlives it a little for TTL clean-up.
CONNECTION_TTL = timedelta(hours=3)


class Connections:
    """Registers connections per person and posts frames to every one of them."""

    def __init__(self, clock: Clock, management_client: Callable[[], Any], repo: ConnectionRepository) -> None:
        self._clock = clock
        self._client = management_client
        self._repo = repo

    def register(self, connection_id: str, principal: str, role: str, user_id: str, name: str) -> None:
        now = self._clock.now()
        record = ConnectionModel(
            keys.connection_pk(connection_id),
            keys.META_SK,
            connection_id=connection_id,
            principal=principal,
            role=role,
            user_id=user_id,
            name=name,
            connected_at=iso(now),
            expires_at=int((now + CONNECTION_TTL).timestamp()),
        )
        with transaction() as tx:
            tx.put("connection", record)
            tx.update(
                "set",
                ConnectionSetModel(keys.connection_set_pk(principal), keys.SET_SK),
                [ConnectionSetModel.connection_ids.add({connection_id})],
            )

    def forget(self, connection_id: str, principal: str | None = None) -> None:
        if principal is None:
            record = self._repo.get(connection_id)
            if record is None:
                return
            principal = record.principal
        with transaction() as tx:
            tx.delete("connection", ConnectionModel(keys.connection_pk(connection_id), keys.META_SK))
            tx.update(
                "set",
                ConnectionSetModel(keys.connection_set_pk(principal), keys.SET_SK),
                [ConnectionSetModel.connection_ids.delete({connection_id})],
            )

    def post(self, connection_id: str, frame: Mapping[str, Any], principal: str | None = None) -> bool:
        """Sends one frame; a connection API Gateway no longer knows is forgotten."""
        client = self._client()
        try:
            client.post_to_connection(ConnectionId=connection_id, Data=_encode(frame))
            return True
        except client.exceptions.GoneException:
            logger.info("connection gone", extra={"connection_id": connection_id})
            self.forget(connection_id, principal)
            return False

    def send_to(
        self, principals: Iterable[str], frame: Mapping[str, Any], known: Mapping[str, set[str]] | None = None
    ) -> int:
        """Every open connection of every person named: an agent with two tabs gets both.

        `known` holds connections already read in the same request, to save a lookup.
        """
        named = list(principals)
        if known is not None and all(p in known for p in named):
            found = {p: known[p] for p in named}
        else:
            found = self._repo.of_principals(named)
        delivered = 0
        for principal, connection_ids in found.items():
            for connection_id in sorted(connection_ids):
                delivered += self.post(connection_id, frame, principal)
        return delivered


def _encode(frame: Mapping[str, Any]) -> bytes:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":")).encode()
