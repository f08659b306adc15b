"""First questions (首问问题): one-click questions the bot shows when a chat opens, with click counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pynamodb.exceptions import UpdateError

from shopdesk import keys
from shopdesk.auth import new_id
from shopdesk.db import transaction
from shopdesk.errors import ValidationFailed
from shopdesk.models import FirstQuestionModel
from shopdesk.repositories import FirstQuestionRepository, KnowledgeRepository

MAX_QUESTIONS = 8
MAX_TEXT = 60


def question_view(question: FirstQuestionModel) -> dict[str, Any]:
    return {
        "id": question.question_id,
        "text": question.text,
        "entry_id": question.entry_id or None,
        "clicks": int(question.clicks),
    }


class FirstQuestions:
    def __init__(self, repo: FirstQuestionRepository, entries: KnowledgeRepository) -> None:
        self._repo = repo
        self._entries = entries

    def all(self) -> list[FirstQuestionModel]:
        return self._repo.all()

    def get(self, question_id: str) -> FirstQuestionModel | None:
        return next((q for q in self._repo.all() if q.question_id == question_id), None)

    def replace(self, items: Sequence[Mapping[str, Any]]) -> list[FirstQuestionModel]:
        """The whole list in one transaction: questions kept by id keep their click counts."""
        if len(items) > MAX_QUESTIONS:
            raise ValidationFailed(f"At most {MAX_QUESTIONS} first questions.", field="items")
        current = {q.question_id: q for q in self._repo.all()}
        wanted: list[FirstQuestionModel] = []
        for position, item in enumerate(items):
            text = str(item.get("text") or "").strip()
            if not text or len(text) > MAX_TEXT:
                raise ValidationFailed(f"A first question has 1 to {MAX_TEXT} characters.", field=f"items.{position}")
            entry_id = str(item.get("entry_id") or "")
            if entry_id and self._entries.get(entry_id) is None:
                raise ValidationFailed("No such knowledge-base entry.", field=f"items.{position}.entry_id")
            qid = str(item.get("id") or "") or new_id("fq")
            kept = current.get(qid)
            wanted.append(
                FirstQuestionModel(
                    keys.FIRST_QUESTIONS_PK,
                    qid,
                    question_id=qid,
                    text=text,
                    entry_id=entry_id,
                    position=position,
                    clicks=int(kept.clicks) if kept is not None else 0,
                )
            )
        with transaction() as tx:
            for question in wanted:
                tx.put(f"q-{question.question_id}", question)
            for qid, gone in current.items():
                if qid not in {q.question_id for q in wanted}:
                    tx.delete(f"d-{qid}", gone)
        return wanted

    def click(self, question_id: str) -> FirstQuestionModel | None:
        question = FirstQuestionModel(keys.FIRST_QUESTIONS_PK, question_id)
        try:
            question.update(actions=[FirstQuestionModel.clicks.add(1)], condition=FirstQuestionModel.pk.exists())
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return None  # removed meanwhile: an old chip clicked
            raise
        return question
