"""The store's knowledge base: entries, their import and export, and the search index the bot and agents use.

Every change bumps the store's knowledge-base version; the index is then rebuilt from the entries and
published as an S3 artifact with terms precomputed, so a cold bot loads it without segmenting anything.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import DeleteError, PutError, UpdateError

from shopdesk import keys
from shopdesk.answering import Analyzer, Doc, Hit, Index
from shopdesk.artifacts import Artifacts, Latest
from shopdesk.auth import Principal, new_id
from shopdesk.clock import Clock, iso
from shopdesk.db import TransactionFailed, Tx, transaction
from shopdesk.errors import ImportRejected, ValidationFailed, VersionConflict
from shopdesk.kb_files import EntryFields, InvalidEntry, validate_entry
from shopdesk.models import BotConfigModel, KbEntryModel
from shopdesk.repositories import BotConfigRepository, KnowledgeRepository, Page
from shopdesk.store import plain

TRANSACTION_ITEMS = 100
EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_BREAKS = re.compile(r"<\s*(br\s*/?|/p|/li)\s*>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")


def answer_text(answer_html: str) -> str:
    """An answer as plain text, for an agent's composer and for channels without rich text."""
    text = html.unescape(_TAGS.sub("", _BREAKS.sub("\n", answer_html)))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def entry_view(entry: KbEntryModel) -> dict[str, Any]:
    actor = plain(entry.updated_by)
    return {
        "entry_id": entry.entry_id,
        "question": entry.question,
        "similar": list(entry.similar or []),
        "answer": entry.answer,
        "category": entry.category,
        "tags": list(entry.tags or []),
        "enabled": bool(entry.enabled),
        "version": int(entry.version),
        "created_at": entry.created_at,
        "updated_at": entry.updated_at,
        "updated_by": {"id": actor.get("id"), "name": actor.get("name")},
    }


def analyzer_of(config: BotConfigModel) -> Analyzer:
    synonyms = {str(k): str(v) for k, v in plain(config.synonyms).items()}
    return Analyzer(list(config.words or []), synonyms)


@dataclass(frozen=True)
class LiveIndex:
    """The published index, with what a search result shows without reading the entries."""

    key: str
    index: Index
    analyzer: Analyzer
    questions: Mapping[str, str]


@dataclass(frozen=True)
class Found:
    hit: Hit
    entry: KbEntryModel


class IndexCache:
    """One loaded index per container, replaced when the store publishes a newer one."""

    def __init__(self) -> None:
        self._latest: Latest[LiveIndex] = Latest()

    def get(self, config: BotConfigModel, artifacts: Artifacts) -> LiveIndex | None:
        key = config.index_key
        if not key:
            return None

        def load() -> LiveIndex:
            data = artifacts.get_json(key)
            analyzer = Analyzer(data.get("words", []), data.get("synonyms", {}))
            return LiveIndex(key, Index.from_json(data["index"]), analyzer, data.get("questions", {}))

        return self._latest.get(key, load)


class KnowledgeBase:
    def __init__(
        self,
        clock: Clock,
        entries: KnowledgeRepository,
        config: BotConfigRepository,
        artifacts: Artifacts,
        cache: IndexCache,
    ) -> None:
        self._clock = clock
        self._entries = entries
        self._config = config
        self._artifacts = artifacts
        self._cache = cache

    # --- reading ---------------------------------------------------------------------------------

    def page(self, category: str | None, limit: int, cursor: str | None) -> Page[KbEntryModel]:
        return self._entries.page(category, limit, cursor)

    def get(self, entry_id: str) -> KbEntryModel:
        return self._entries.require(entry_id)

    def live(self, config: BotConfigModel | None = None) -> LiveIndex | None:
        return self._cache.get(config or self._config.get(), self._artifacts)

    def search(self, query: str, limit: int, config: BotConfigModel | None = None) -> list[Found]:
        """Entries for an agent's search box or for assist: best first, enabled ones only."""
        live = self.live(config)
        if live is None or not query.strip():
            return []
        hits = live.index.search(query, live.analyzer, limit)
        entries = self._entries.many(hit.entry_id for hit in hits)
        return [Found(hit, entries[hit.entry_id]) for hit in hits if hit.entry_id in entries]

    # --- writing ---------------------------------------------------------------------------------

    def create(self, principal: Principal, data: Mapping[str, Any]) -> KbEntryModel:
        fields = _validated(data)
        entry = self._new(principal, fields, new_id("kb"))
        with transaction() as tx:
            tx.put("entry", entry, condition=KbEntryModel.pk.does_not_exist())
            tx.update("config", _config_key(), [BotConfigModel.kb_version.add(1)])
        self.publish([entry])
        return entry

    def update(self, principal: Principal, entry_id: str, version: int, data: Mapping[str, Any]) -> KbEntryModel:
        fields = _validated(data)
        current = self._entries.require(entry_id)
        entry = self._replacing(principal, current, fields)
        self._versioned(current, version, lambda tx: tx.put("entry", entry, condition=KbEntryModel.version == version))
        self.publish([entry])
        return entry

    def delete(self, principal: Principal, entry_id: str, version: int) -> None:
        current = self._entries.require(entry_id)
        self._versioned(
            current, version, lambda tx: tx.delete("entry", current, condition=KbEntryModel.version == version)
        )
        self.publish(removed=[entry_id])

    @staticmethod
    def _versioned(current: KbEntryModel, version: int, write: Callable[[Tx], None]) -> None:
        """The entry's write and the knowledge base's version bump, settled by the entry's version."""
        try:
            with transaction() as tx:
                write(tx)
                tx.update("config", _config_key(), [BotConfigModel.kb_version.add(1)])
        except TransactionFailed as failure:
            if failure.failed_on("entry"):
                raise VersionConflict(
                    "Someone changed this entry meanwhile; reload it.", current_version=int(current.version)
                ) from failure
            raise

    def add_similar(self, principal: Principal, entry_id: str, phrasing: str) -> KbEntryModel:
        """The learning loop: a question the bot missed becomes a similar phrasing of an entry."""
        current = self._entries.require(entry_id)
        data = {**_fields_of(current), "similar": [*list(current.similar or []), phrasing]}
        return self.update(principal, entry_id, int(current.version), data)

    def import_file(self, principal: Principal, rows: Sequence[EntryFields]) -> dict[str, int]:
        """All or nothing: written in transactions; a failure part-way puts back what the earlier ones changed.

        A row with an entry id updates that entry, or creates it under that id (an export of another
        store, or the demo seed); a row without one is a new entry.
        """
        existing = self._entries.many(row.entry_id for row in rows if row.entry_id)
        writes = [
            self._replacing(principal, existing[row.entry_id], row)
            if row.entry_id in existing
            else self._new(principal, row, row.entry_id or new_id("kb"))
            for row in rows
        ]
        done: list[KbEntryModel] = []
        chunk = TRANSACTION_ITEMS - 1
        try:
            for start in range(0, len(writes), chunk):
                part = writes[start : start + chunk]
                with transaction() as tx:
                    for n, entry in enumerate(part):
                        before = existing.get(entry.entry_id)
                        condition = (
                            KbEntryModel.version == int(before.version)
                            if before is not None
                            else KbEntryModel.pk.does_not_exist()
                        )
                        tx.put(f"entry{n}", entry, condition=condition)
                    tx.update("config", _config_key(), [BotConfigModel.kb_version.add(1)])
                done += part
        except TransactionFailed as failure:
            self._undo(done, existing)
            raise ImportRejected(
                "Entries changed while importing; nothing was imported. Try again.", errors=[]
            ) from failure
        self.publish(writes)
        created = sum(1 for entry in writes if entry.entry_id not in existing)
        return {"created": created, "updated": len(writes) - created}

    def export(self) -> list[dict[str, Any]]:
        return [
            {**_fields_of(entry), "entry_id": entry.entry_id}
            for entry in sorted(self._entries.all(), key=lambda e: e.entry_id)
        ]

    def publish(self, changed: Iterable[KbEntryModel] = (), removed: Iterable[str] = ()) -> int:
        """Rebuilds the index from every entry and makes it live, unless a newer one already is.

        The entry list is read from an index, which may lag a write by a moment: the entries this
        request changed are taken as written, so its own change is never missing.
        """
        config = self._config.get()
        version = int(config.kb_version)
        entries = {entry.entry_id: entry for entry in self._entries.all()}
        entries.update({entry.entry_id: entry for entry in changed})
        for entry_id in removed:
            entries.pop(entry_id, None)
        live = [entry for entry in entries.values() if entry.enabled]
        analyzer = analyzer_of(config)
        docs = [Doc(e.entry_id, e.question, tuple(e.similar or ()), e.category, tuple(e.tags or ())) for e in live]
        key = f"bot/kb-index/{version}-{new_id('i')}.json"
        self._artifacts.put_json(
            key,
            {
                "version": version,
                "index": Index.build(docs, analyzer).to_json(),
                "questions": {e.entry_id: e.question for e in live},
                "words": list(config.words or []),
                "synonyms": plain(config.synonyms),
            },
        )
        try:
            _config_key().update(
                actions=[
                    BotConfigModel.index_version.set(version),
                    BotConfigModel.index_key.set(key),
                    BotConfigModel.updated_at.set(iso(self._clock.now())),
                ],
                condition=BotConfigModel.index_version.does_not_exist() | (BotConfigModel.index_version <= version),
            )
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
        return version

    # --- helpers ---------------------------------------------------------------------------------

    def _new(self, principal: Principal, fields: EntryFields, entry_id: str) -> KbEntryModel:
        now = iso(self._clock.now())
        entry = KbEntryModel(keys.kb_entry_pk(entry_id), keys.META_SK, entry_id=entry_id, created_at=now, version=1)
        return self._fill(entry, principal, fields, now)

    def _replacing(self, principal: Principal, current: KbEntryModel, fields: EntryFields) -> KbEntryModel:
        entry = KbEntryModel(
            current.pk,
            current.sk,
            entry_id=current.entry_id,
            created_at=current.created_at,
            version=int(current.version) + 1,
        )
        return self._fill(entry, principal, fields, iso(self._clock.now()))

    @staticmethod
    def _fill(entry: KbEntryModel, principal: Principal, fields: EntryFields, now: str) -> KbEntryModel:
        entry.question = fields.question
        entry.similar = list(fields.similar)
        entry.answer = fields.answer
        entry.category = fields.category
        entry.tags = list(fields.tags)
        entry.enabled = fields.enabled
        entry.updated_at = now
        entry.updated_by = {"role": principal.role, "id": principal.user_id, "name": principal.name}
        entry.gsi1pk, entry.gsi1sk = keys.KB_LIST, entry.entry_id
        entry.gsi2pk, entry.gsi2sk = keys.kb_category_gsi(fields.category), entry.entry_id
        return entry

    def _undo(self, written: list[KbEntryModel], before: Mapping[str, KbEntryModel]) -> None:
        for entry in written:
            previous = before.get(entry.entry_id)
            try:
                if previous is None:
                    entry.delete(condition=KbEntryModel.version == int(entry.version))
                else:
                    previous.save(condition=KbEntryModel.version == int(entry.version))
            except (PutError, DeleteError):  # a later writer's change stands
                continue


def _config_key() -> BotConfigModel:
    return BotConfigModel(keys.STORE_PK, keys.BOT_SK)


def _validated(data: Mapping[str, Any]) -> EntryFields:
    try:
        return validate_entry(data)
    except InvalidEntry as invalid:
        first = invalid.errors[0]
        raise ValidationFailed(
            first.message, field=first.field, errors=[{"field": e.field, "message": e.message} for e in invalid.errors]
        ) from invalid


def _fields_of(entry: KbEntryModel) -> dict[str, Any]:
    return {
        "question": entry.question,
        "similar": list(entry.similar or []),
        "answer": entry.answer,
        "category": entry.category,
        "tags": list(entry.tags or []),
        "enabled": bool(entry.enabled),
    }
