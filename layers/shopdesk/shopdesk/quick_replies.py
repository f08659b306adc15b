"""Quick replies, per store and per agent, ranked by how well their keywords fit the customer's words."""

from __future__ import annotations

from collections.abc import Sequence

from shopdesk import keys, text
from shopdesk.auth import new_id
from shopdesk.errors import ValidationFailed
from shopdesk.models import QuickReplyModel
from shopdesk.repositories import QuickReplyRepository

MAX_TEXT = 1000


class QuickReplies:
    def __init__(self, repo: QuickReplyRepository) -> None:
        self._repo = repo

    def add(self, owner_agent_id: str | None, title: str, body: str, keywords: Sequence[str]) -> QuickReplyModel:
        if not title.strip() or not body.strip():
            raise ValidationFailed("A quick reply needs a title and a text.", field="text")
        if len(body) > MAX_TEXT:
            raise ValidationFailed(f"A quick reply holds at most {MAX_TEXT} characters.", field="text")
        reply_id = new_id("qr")
        reply = QuickReplyModel(
            keys.quick_reply_pk(owner_agent_id),
            f"QR#{reply_id}",
            reply_id=reply_id,
            title=title.strip(),
            text=body,
            keywords=[k.strip() for k in keywords if k.strip()],
            scope="agent" if owner_agent_id else "store",
        )
        reply.save()
        return reply

    def suggest(self, agent_id: str, query: str) -> list[QuickReplyModel]:
        """Store and personal replies; those whose keywords the query hits come first."""
        replies = self._repo.of_owner(agent_id) + self._repo.of_owner(None)
        if not query.strip():
            return replies
        text.teach(k for reply in replies for k in reply.keywords or [])
        words = set(text.tokens(query))

        def hits(reply: QuickReplyModel) -> int:
            return sum(1 for keyword in reply.keywords or [] if keyword in words or keyword in query)

        return sorted(replies, key=lambda reply: (-hits(reply), reply.scope != "agent", reply.title))
