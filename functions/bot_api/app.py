"""The knowledge base and the bot: entries, import and export, search and assist for agents, bot settings,
first questions, the domain dictionary, unanswered questions, intents, flows and the bot's figures."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field
from shopdesk.auth import Principal
from shopdesk.container import Container
from shopdesk.errors import ImportRejected, NotParticipant, ValidationFailed
from shopdesk.http import create_app, page_size, principal_of
from shopdesk.kb_files import CATEGORIES, MAX_ANSWER, MAX_QUESTION, parse_file, to_csv, to_xlsx
from shopdesk.kb_files import ImportRejected as FileRejected

logger = Logger()
metrics = Metrics()
container = Container()
app = create_app(lambda: container, visitors=False)

EntryId = Annotated[str, Path(min_length=1, max_length=64)]
Limit = Annotated[int | None, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=2048)]
MAX_IMPORT_BYTES = 4 * 1024 * 1024
SEARCH_LIMIT = 20


class Entry(BaseModel):
    question: str = Field(max_length=MAX_QUESTION)
    similar: list[str] = Field(default_factory=list, max_length=30)
    answer: str = Field(max_length=MAX_ANSWER * 2)
    category: str = Field(max_length=20)
    tags: list[str] = Field(default_factory=list, max_length=10)
    enabled: bool = True


class EntryChange(Entry):
    version: int = Field(ge=1)


class ImportFile(BaseModel):
    filename: str = Field(min_length=1, max_length=200)
    content_base64: str = Field(min_length=1, max_length=MAX_IMPORT_BYTES * 4 // 3 + 4)


class BotSettings(BaseModel):
    mode: Literal["off", "bot_first", "human_first"] | None = None
    answer_threshold: float | None = Field(default=None, ge=0, le=1)
    suggest_threshold: float | None = Field(default=None, ge=0, le=1)
    greeting: str | None = Field(default=None, max_length=500)
    order_source: Literal["events", "csv"] | None = None


class FirstQuestion(BaseModel):
    id: str | None = Field(default=None, max_length=64)
    text: str = Field(max_length=200)
    entry_id: str | None = Field(default=None, max_length=64)


class FirstQuestionList(BaseModel):
    items: list[FirstQuestion] = Field(max_length=20)


class Dictionary(BaseModel):
    words: list[Annotated[str, Field(min_length=1, max_length=20)]] = Field(default_factory=list, max_length=2000)
    synonyms: dict[str, Annotated[str, Field(min_length=1, max_length=20)]] = Field(default_factory=dict)


class Resolution(BaseModel):
    entry_id: str | None = Field(default=None, max_length=64)


class Flow(BaseModel):
    definition: dict[str, Any]


class IntentExamples(BaseModel):
    jsonl: str = Field(min_length=1, max_length=2 * 1024 * 1024, description="One example per line, the seed's format")


def staff() -> Principal:
    principal = principal_of(app)
    principal.require("agent", "leader", "admin")
    return principal


def editor() -> Principal:
    principal = principal_of(app)
    principal.require("leader", "admin")
    return principal


def found_view(found: Any) -> dict[str, Any]:
    from shopdesk.knowledge import answer_text

    entry = found.entry
    return {
        "entry_id": entry.entry_id,
        "question": entry.question,
        "answer": entry.answer,
        "answer_text": answer_text(entry.answer),
        "category": entry.category,
        "confidence": round(found.hit.confidence, 3),
        "matched": found.hit.matched,
    }


def entry_view(entry: Any) -> dict[str, Any]:
    from shopdesk.knowledge import entry_view as view

    return view(entry)


# --- entries -------------------------------------------------------------------------------------


@app.get("/kb/categories", summary="The knowledge base's categories", tags=["knowledge base"])
def categories() -> dict[str, Any]:
    staff()
    return {"items": list(CATEGORIES)}


@app.get("/kb/entries", summary="Entries, optionally of one category; paginated", tags=["knowledge base"])
def list_entries(
    category: Annotated[str | None, Query(max_length=20)] = None, limit: Limit = None, cursor: Cursor = None
) -> dict[str, Any]:
    staff()
    page = container.knowledge.page(category, page_size(limit), cursor)
    return {"items": [entry_view(e) for e in page.items], "next_cursor": page.next_cursor}


@app.post("/kb/entries", summary="Add an entry", tags=["knowledge base"])
def create_entry(body: Entry) -> tuple[dict[str, Any], int]:
    return entry_view(container.knowledge.create(editor(), body.model_dump())), 201


@app.get("/kb/entries/<entry_id>", summary="One entry", tags=["knowledge base"])
def get_entry(entry_id: EntryId) -> dict[str, Any]:
    staff()
    return entry_view(container.knowledge.get(entry_id))


@app.put("/kb/entries/<entry_id>", summary="Change an entry (version-checked)", tags=["knowledge base"])
def update_entry(entry_id: EntryId, body: EntryChange) -> dict[str, Any]:
    data = body.model_dump(exclude={"version"})
    return entry_view(container.knowledge.update(editor(), entry_id, body.version, data))


@app.delete("/kb/entries/<entry_id>", summary="Delete an entry (version-checked)", tags=["knowledge base"])
def delete_entry(entry_id: EntryId, version: Annotated[int, Query(ge=1)]) -> tuple[dict[str, Any], int]:
    container.knowledge.delete(editor(), entry_id, version)
    return {}, 204


@app.post("/kb/import", summary="Import entries from CSV or XLSX, all or nothing", tags=["knowledge base"])
def import_entries(body: ImportFile) -> dict[str, Any]:
    principal = editor()
    try:
        data = base64.b64decode(body.content_base64, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValidationFailed("content_base64 is not valid base64.", field="content_base64") from error
    if len(data) > MAX_IMPORT_BYTES:
        raise ValidationFailed(f"A file holds at most {MAX_IMPORT_BYTES // 1024 // 1024} MB.", field="content_base64")
    try:
        rows = parse_file(body.filename, data)
    except FileRejected as rejected:
        raise ImportRejected(
            f"{len(rejected.errors)} problem(s) in the file; nothing was imported.",
            errors=[{"row": e.row, "field": e.field, "message": e.message} for e in rejected.errors],
        ) from rejected
    return container.knowledge.import_file(principal, rows)


@app.get("/kb/export", summary="Export every entry as CSV or XLSX", tags=["knowledge base"])
def export_entries(format: Annotated[Literal["csv", "xlsx"], Query()] = "csv") -> dict[str, Any]:
    from shopdesk.knowledge import EXPORT_TYPES

    editor()
    entries = container.knowledge.export()
    content = to_csv(entries) if format == "csv" else to_xlsx(entries)
    return {
        "filename": f"knowledge-base.{format}",
        "content_type": EXPORT_TYPES[format],
        "content_base64": base64.b64encode(content).decode(),
    }


@app.get("/kb/search", summary="Search the knowledge base, tolerant of wording", tags=["knowledge base"])
def search(q: Annotated[str, Query(min_length=1, max_length=200)], limit: Limit = None) -> dict[str, Any]:
    staff()
    found = container.knowledge.search(q, min(limit or 8, SEARCH_LIMIT))
    return {"items": [found_view(f) for f in found]}


@app.get("/kb/assist/<session_id>", summary="Answers for the customer's last message", tags=["knowledge base"])
def assist(session_id: Annotated[str, Path(min_length=1, max_length=64)]) -> dict[str, Any]:
    principal = staff()
    session = container.chat.readable(principal, session_id)
    if session.agent_id != principal.user_id and not principal.has_role("leader", "admin"):
        raise NotParticipant("This session is not assigned to you.")
    query = container.chat.last_customer_text(session)
    found = container.knowledge.search(query, 3) if query else []
    return {"query": query, "items": [found_view(f) for f in found]}


@app.post("/kb/publish", summary="Rebuild and publish the search index now", tags=["knowledge base"])
def publish() -> dict[str, Any]:
    editor()
    return {"index_version": container.knowledge.publish()}


# --- the bot -------------------------------------------------------------------------------------


@app.get("/bot/settings", summary="The bot's mode, thresholds and greeting", tags=["bot"])
def get_settings() -> dict[str, Any]:
    from shopdesk.bot import settings_view

    staff()
    return settings_view(container.bot.config())


@app.put("/bot/settings", summary="Switch the bot's mode or tune it; applies from the next message", tags=["bot"])
def put_settings(body: BotSettings) -> dict[str, Any]:
    from shopdesk.bot import settings_view

    principal = editor()
    changes = body.model_dump(exclude_none=True)
    settings = container.bot.update_settings(**changes)
    container.audit.record(principal, "bot.settings", "bot", changes)
    return settings_view(settings)


@app.get("/bot/first-questions", summary="First questions with their click counts", tags=["bot"])
def get_first_questions() -> dict[str, Any]:
    from shopdesk.first_questions import question_view

    staff()
    return {"items": [question_view(q) for q in container.first_questions.all()]}


@app.put("/bot/first-questions", summary="Replace the first questions (at most 8)", tags=["bot"])
def put_first_questions(body: FirstQuestionList) -> dict[str, Any]:
    from shopdesk.first_questions import question_view

    principal = editor()
    saved = container.first_questions.replace([item.model_dump() for item in body.items])
    container.audit.record(principal, "bot.first_questions", "bot", {"texts": [q.text for q in saved]})
    return {"items": [question_view(q) for q in saved]}


@app.get("/bot/dictionary", summary="The store's domain words and synonyms", tags=["bot"])
def get_dictionary() -> dict[str, Any]:
    from shopdesk.store import plain

    staff()
    config = container.bot.config()
    return {"words": list(config.words or []), "synonyms": plain(config.synonyms)}


@app.put("/bot/dictionary", summary="Extend the domain dictionary; the index is rebuilt", tags=["bot"])
def put_dictionary(body: Dictionary) -> dict[str, Any]:
    from shopdesk.store import plain

    editor()
    words = list(dict.fromkeys(w.strip() for w in body.words if w.strip()))
    config = container.bot.update_dictionary(
        words, {k.strip(): v.strip() for k, v in body.synonyms.items() if k.strip()}
    )
    return {"words": list(config.words or []), "synonyms": plain(config.synonyms)}


@app.get("/bot/unanswered", summary="Questions the bot could not answer, most asked first", tags=["bot"])
def unanswered(limit: Limit = None, cursor: Cursor = None) -> dict[str, Any]:
    editor()
    page = container.unanswered.page(page_size(limit), cursor)
    items = [
        {
            "question_id": q.question_id,
            "text": q.text,
            "count": int(q.asked),
            "first_at": q.first_at,
            "last_at": q.last_at,
        }
        for q in page.items
    ]
    return {"items": items, "next_cursor": page.next_cursor}


@app.post("/bot/unanswered/<question_id>/resolve", summary="Add as a similar phrasing, or dismiss", tags=["bot"])
def resolve_unanswered(
    question_id: Annotated[str, Path(min_length=1, max_length=64)], body: Resolution
) -> dict[str, Any]:
    principal = editor()
    question = container.unanswered.require(question_id)
    entry = None
    if body.entry_id:
        entry = container.knowledge.add_similar(principal, body.entry_id, question.text)
    container.unanswered.resolve(question_id)
    return {"question_id": question_id, "entry": entry_view(entry) if entry is not None else None}


@app.get("/bot/stats", summary="The bot's figures for a store-local day", tags=["bot"])
def stats(
    day: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")] = None,
    group_id: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    editor()
    return container.bot.stats.day(f"GROUP#{group_id}" if group_id else "STORE", day)


@app.get("/bot/flows", summary="Multi-turn flows, built-in and the store's own", tags=["bot"])
def flows() -> dict[str, Any]:
    from shopdesk.bot import flow_view

    editor()
    return {"items": [flow_view(flow) for flow in container.bot.flows().values()]}


@app.put("/bot/flows/<flow_id>", summary="Define or replace a flow; every step it names must exist", tags=["bot"])
def put_flow(flow_id: Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{1,39}$")], body: Flow) -> dict[str, Any]:
    from shopdesk.bot import flow_view

    editor()
    return flow_view(container.bot.save_flow(flow_id, body.definition))


@app.post("/bot/intents", summary="Import labelled examples and train the store's intent model", tags=["bot"])
def train_intents(body: IntentExamples) -> dict[str, Any]:
    editor()
    return container.bot.train_intents(body.jsonl.splitlines())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
