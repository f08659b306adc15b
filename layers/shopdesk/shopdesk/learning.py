"""The learning loop: questions the bot could not answer, counted, so a leader can turn them into entries."""

from __future__ import annotations

import hashlib

from pynamodb.exceptions import UpdateError

from shopdesk import keys
from shopdesk.clock import Clock, iso
from shopdesk.errors import NotFound
from shopdesk.models import UnansweredModel
from shopdesk.repositories import Page, UnansweredRepository

MAX_LOGGED_CHARS = 200


def question_id(text: str) -> str:
    """The same question asked again, give or take case and spacing, lands on the same item."""
    normal = "".join(text.lower().split())
    return hashlib.sha256(normal.encode()).hexdigest()[:16]


class Unanswered:
    def __init__(self, clock: Clock, repo: UnansweredRepository) -> None:
        self._clock = clock
        self._repo = repo

    def log(self, text: str) -> int:
        """Counts the question; its place in the most-asked list follows the count it reached."""
        text = text.strip()[:MAX_LOGGED_CHARS]
        qid = question_id(text)
        now = iso(self._clock.now())
        item = UnansweredModel(keys.UNANSWERED_PK, keys.unanswered_sk(qid))
        item.update(
            actions=[
                UnansweredModel.asked.add(1),
                UnansweredModel.question_id.set(qid),
                UnansweredModel.text.set(UnansweredModel.text | text),
                UnansweredModel.first_at.set(UnansweredModel.first_at | now),
                UnansweredModel.last_at.set(now),
            ]
        )
        count = int(item.asked)
        try:
            # Only the writer that reached this count ranks it, so a slower one never ranks it lower.
            item.update(
                actions=[
                    UnansweredModel.gsi1pk.set(keys.UNANSWERED_OPEN),
                    UnansweredModel.gsi1sk.set(keys.unanswered_rank_sk(count, qid)),
                ],
                condition=UnansweredModel.asked == count,
            )
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
        return count

    def page(self, limit: int, cursor: str | None) -> Page[UnansweredModel]:
        return self._repo.page(limit, cursor)

    def require(self, qid: str) -> UnansweredModel:
        item = self._repo.get(qid)
        if item is None:
            raise NotFound("No such unanswered question.", question_id=qid)
        return item

    def resolve(self, qid: str) -> None:
        self.require(qid).delete()
