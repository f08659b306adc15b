"""The first-response rule: a customer waiting past the store's threshold triggers a reminder.

EventBridge schedules tick once a minute at best, so each waiting message starts its own timer: an
SQS message delayed by the threshold. When it fires, a conditional write makes sure the reminder
is recorded once, and only if that same wait is still unanswered.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from shopdesk import keys
from shopdesk.clock import Clock, parse_iso
from shopdesk.config import Settings
from shopdesk.db import TransactionFailed, transaction
from shopdesk.models import AgentKpiModel, SessionModel
from shopdesk.notify import Connections
from shopdesk.repositories import SessionRepository

MAX_SQS_DELAY = 900


class Reminders:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        sqs: Callable[[], Any],
        sessions: SessionRepository,
        connections: Connections,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._sqs = sqs
        self._sessions = sessions
        self._connections = connections

    def start(self, session_id: str, awaiting_since: str, threshold_seconds: int) -> None:
        self._sqs().send_message(
            QueueUrl=self._settings.reminder_queue_url,
            MessageBody=json.dumps({"session_id": session_id, "awaiting_since": awaiting_since}),
            DelaySeconds=max(0, min(int(threshold_seconds), MAX_SQS_DELAY)),
        )

    def fire(self, session_id: str, awaiting_since: str) -> bool:
        """Records a slow first response and reminds the agent; False when the wait is already over."""
        session = self._sessions.get(session_id)
        if session is None or session.status != "active" or session.awaiting_since != awaiting_since:
            return False
        now = self._clock.now()
        day = now.strftime("%Y-%m-%d")
        try:
            with transaction() as tx:
                tx.update(
                    "session",
                    session,
                    [SessionModel.slow_responses.add(1), SessionModel.reminded_for.set(awaiting_since)],
                    condition=(SessionModel.awaiting_since == awaiting_since)
                    & (SessionModel.reminded_for != awaiting_since),
                )
                tx.update(
                    "kpi",
                    AgentKpiModel(keys.agent_kpi_pk(session.agent_id, day), "SUMMARY"),
                    [AgentKpiModel.slow_responses.add(1)],
                )
        except TransactionFailed as failure:
            if failure.failed_on("session"):
                return False
            raise
        waited = int((now - parse_iso(awaiting_since)).total_seconds())
        self._connections.send_to(
            [keys.principal_key("agent", session.agent_id)],
            {"type": "reminder", "session_id": session_id, "waiting_seconds": waited},
        )
        return True
