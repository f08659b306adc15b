"""The store's bot (服务助手): greets, answers from the knowledge base, runs multi-turn flows, hands over.

It decides; the chat service stores and delivers what it says and moves the session to a person.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import UpdateError

from shopdesk.answering import Thresholds, decide, wants_person
from shopdesk.artifacts import Artifacts, Latest
from shopdesk.auth import shop_visitor_id
from shopdesk.bot_stats import BotStats
from shopdesk.errors import ImportRejected, InvalidFlow, ValidationFailed, VersionConflict
from shopdesk.first_questions import FirstQuestions
from shopdesk.flows import (
    ActionRunner,
    Flow,
    FlowDefinitionError,
    FlowState,
    advance,
    builtin_flows,
    parse_flow,
    start,
    triggered,
)
from shopdesk.intents import (
    Classifier,
    ExampleError,
    evaluate,
    extract_entities,
    load_shipped,
    parse_examples,
    split,
)
from shopdesk.knowledge import KnowledgeBase, answer_text
from shopdesk.learning import Unanswered
from shopdesk.models import BotConfigModel, SessionModel
from shopdesk.order_book import OrderBook, order_view
from shopdesk.repositories import BotConfigRepository, KnowledgeRepository
from shopdesk.store import plain

DEFAULT_GREETING = "您好，我是智能助手，可以帮您查订单、解答退换货、物流、尺码等问题。需要人工服务请发送“转人工”。"
SUGGEST_TEXT = "您是不是想问："
GREETING_BACK = "您好，请问有什么可以帮您？可以直接描述问题，或点下面的常见问题。"
FLOW_INTENT_PROBABILITY = 0.6
FLOW_ACTIONS = ("order_lookup",)
MAX_QUESTION_CHARS = 500


@dataclass(frozen=True)
class Ref:
    """What the customer clicked, if the message came from a button."""

    kind: str = ""
    id: str = ""
    entry_id: str = ""


@dataclass(frozen=True)
class Reply:
    text: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Turn:
    replies: list[Reply] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    handover: str | None = None


def thresholds_of(config: BotConfigModel) -> Thresholds:
    default = Thresholds()
    return Thresholds(
        answer=float(config.answer_threshold) if config.answer_threshold is not None else default.answer,
        suggest=float(config.suggest_threshold) if config.suggest_threshold is not None else default.suggest,
    )


def settings_view(config: BotConfigModel) -> dict[str, Any]:
    thresholds = thresholds_of(config)
    return {
        "mode": config.mode,
        "answer_threshold": thresholds.answer,
        "suggest_threshold": thresholds.suggest,
        "greeting": config.greeting or DEFAULT_GREETING,
        "order_source": config.order_source,
        "index_version": int(config.index_version),
        "kb_version": int(config.kb_version),
    }


def flow_view(flow: Flow) -> dict[str, Any]:
    return {
        "flow_id": flow.flow_id,
        "name": flow.name,
        "start": flow.start,
        "steps": _thawed(flow.steps),
        "triggers": {"intents": list(flow.intents), "keywords": list(flow.keywords)},
    }


def _thawed(value: Any) -> Any:
    """A parsed flow is read-only (mapping proxies, tuples); its JSON form is plain dicts and lists."""
    if isinstance(value, Mapping):
        return {key: _thawed(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_thawed(item) for item in value]
    return value


class ClassifierCache:
    def __init__(self) -> None:
        self._latest: Latest[Classifier] = Latest()

    def get(self, config: BotConfigModel, artifacts: Artifacts) -> Classifier:
        """The store's own trained model when it has one, else the shipped one."""
        key = config.intents_key
        if not key:
            return load_shipped()
        return self._latest.get(key, lambda: Classifier.from_json(artifacts.get_json(key)))


class BotService:
    def __init__(
        self,
        config: BotConfigRepository,
        knowledge: KnowledgeBase,
        entries: KnowledgeRepository,
        first_questions: FirstQuestions,
        stats: BotStats,
        unanswered: Unanswered,
        orders: OrderBook,
        artifacts: Artifacts,
        classifiers: ClassifierCache,
    ) -> None:
        self._config = config
        self._knowledge = knowledge
        self._entries = entries
        self._first_questions = first_questions
        self.stats = stats
        self._unanswered = unanswered
        self._orders = orders
        self._artifacts = artifacts
        self._classifiers = classifiers

    # --- settings --------------------------------------------------------------------------------

    def config(self) -> BotConfigModel:
        return self._config.get()

    def update_settings(self, **fields: Any) -> BotConfigModel:
        current = self._config.get()
        answer = fields.get("answer_threshold", thresholds_of(current).answer)
        suggest = fields.get("suggest_threshold", thresholds_of(current).suggest)
        if not 0 <= suggest <= answer <= 1:
            raise ValidationFailed("Thresholds need 0 ≤ suggest ≤ answer ≤ 1.", field="suggest_threshold")
        actions = [getattr(BotConfigModel, name).set(value) for name, value in fields.items() if value is not None]
        if actions:
            current.update(actions=actions)
        return self._config.get()

    def update_dictionary(self, words: list[str], synonyms: dict[str, str]) -> BotConfigModel:
        config = self._config.get()
        config.update(actions=[BotConfigModel.words.set(words), BotConfigModel.synonyms.set(synonyms)])
        self._knowledge.publish()  # the index holds terms segmented with the dictionary
        return self._config.get()

    def flows(self, config: BotConfigModel | None = None) -> dict[str, Flow]:
        """Built-in flows, overridden or extended by the store's own definitions."""
        config = config or self._config.get()
        flows = builtin_flows()
        for flow_id, definition in plain(config.flows).items():
            flows[flow_id] = parse_flow(definition, FLOW_ACTIONS)
        return flows

    def save_flow(self, flow_id: str, definition: dict[str, Any]) -> Flow:
        try:
            flow = parse_flow({**definition, "flow_id": flow_id}, FLOW_ACTIONS)
        except FlowDefinitionError as invalid:
            raise InvalidFlow("The flow definition is invalid.", errors=list(invalid.errors)) from invalid
        config = self._config.get()
        # The map must exist before one of its keys can be set; other flows saved meanwhile are kept.
        config.update(actions=[BotConfigModel.flows.set(BotConfigModel.flows | {})])
        config.update(actions=[BotConfigModel.flows[flow_id].set({**definition, "flow_id": flow_id})])
        return flow

    def train_intents(self, lines: list[str]) -> dict[str, Any]:
        """All examples checked first (an unknown label refuses the file); then trained and made live."""
        try:
            examples = parse_examples(lines)
        except ExampleError as invalid:
            raise ImportRejected(
                f"{len(invalid.errors)} problem(s) in the examples; nothing was trained.", errors=invalid.errors
            ) from invalid
        train, held_out = split(examples)
        evaluation = evaluate(Classifier.train(train), held_out) if held_out else None
        model = Classifier.train(examples)
        config = self._config.get()
        version = int(config.intents_version) + 1
        key = f"bot/intents/model-{version}.json"
        self._artifacts.put_json(key, model.to_json())
        try:
            config.update(
                actions=[BotConfigModel.intents_key.set(key), BotConfigModel.intents_version.set(version)],
                condition=BotConfigModel.intents_version.does_not_exist()
                | (BotConfigModel.intents_version == int(config.intents_version)),
            )
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                raise VersionConflict("Another training finished meanwhile; try again.") from error
            raise
        return {
            "examples": len(examples),
            "labels": list(model.labels),
            "version": version,
            "held_out_accuracy": round(evaluation.accuracy, 4) if evaluation else None,
        }

    # --- the conversation ------------------------------------------------------------------------

    def greeting(self, config: BotConfigModel) -> Reply:
        """The bot's first turn in a chat it takes, with the first questions."""
        questions = [{"id": q.question_id, "text": q.text} for q in self._first_questions.all()]
        return Reply(config.greeting or DEFAULT_GREETING, {"first_questions": questions, "offer_handover": True})

    def respond(self, session: SessionModel, text: str, ref: Ref) -> Turn:
        """One customer message while the bot serves: replies, the bot's new state, and maybe a handover."""
        config = self._config.get()
        turn = Turn(state=plain(session.bot))
        counts = {"consults": 0 if turn.state.get("consulted") else 1}
        turn.state["consulted"] = True
        try:
            self._respond(config, turn, counts, text.strip()[:MAX_QUESTION_CHARS], ref, session.visitor_id)
        finally:
            if turn.handover:
                counts["transfers"] = 1
            self.stats.add(session.group_id, counts, session.visitor_id if turn.replies else None)
        return turn

    def record_resolved(self, session: SessionModel) -> None:
        """Bot-resolved: the customer spoke to the bot, was never handed over, and rated it solved."""
        state = plain(session.bot)
        if state.get("consulted") and not state.get("handed_over"):
            self.stats.add(session.group_id, {"resolved": 1})

    def _respond(
        self, config: BotConfigModel, turn: Turn, counts: dict[str, int], text: str, ref: Ref, visitor_id: str
    ) -> None:
        if config.mode == "off":
            turn.handover = "bot_off"
            return
        if ref.kind == "handover" or wants_person(text):
            turn.handover = "asked"
            return
        flows = self.flows(config)
        if turn.state.get("flow"):
            try:
                state = FlowState.from_dict(turn.state["flow"])
                flow = flows.get(state.flow_id)
                if flow is not None:
                    self._follow(turn, advance(flow, state, text, self._action_runner(config, visitor_id)))
                    return
            except ValueError:  # the flow was redefined under this conversation: start afresh
                pass
            turn.state["flow"] = None
        if ref.kind == "first_question":
            question = self._first_questions.click(ref.id)
            counts["first_question_clicks"] = 1
            if question is not None and question.entry_id and self._answer(turn, question.entry_id):
                counts["answered"] = 1
                return
        if ref.kind == "suggestion" and ref.entry_id and self._answer(turn, ref.entry_id):
            counts["answered"] = 1
            return
        prediction = self._classifiers.get(config, self._artifacts).predict(text)
        intent = prediction.intent if prediction.probability >= FLOW_INTENT_PROBABILITY else None
        flow = triggered(flows.values(), intent, text)
        if flow is not None:
            slots = {k: v for k, v in extract_entities(text).items() if k == "order_number"}
            self._follow(turn, start(flow, slots, self._action_runner(config, visitor_id)))
            return
        live = self._knowledge.live(config)
        if live is None:
            turn.handover = "no_knowledge"
            return
        decision = decide(text, live.index, live.analyzer, thresholds_of(config))
        if decision.kind == "answer" and self._answer(turn, decision.hits[0].entry_id):
            counts["answered"] = 1
        elif decision.kind == "suggest":
            suggestions = [
                {"entry_id": h.entry_id, "question": live.questions.get(h.entry_id, h.matched)} for h in decision.hits
            ]
            turn.replies.append(Reply(SUGGEST_TEXT, {"suggestions": suggestions, "offer_handover": True}))
        elif intent == "greeting":
            # "你好" / "在吗" is not a question to hand over: greet back and offer the first questions.
            questions = [{"id": q.question_id, "text": q.text} for q in self._first_questions.all()]
            turn.replies.append(Reply(GREETING_BACK, {"first_questions": questions, "offer_handover": True}))
        else:
            if decision.reason != "empty":
                self._unanswered.log(text)
                counts["unanswered"] = 1
            turn.handover = "unsure"

    def _answer(self, turn: Turn, entry_id: str) -> bool:
        entry = self._entries.get(entry_id)
        if entry is None or not entry.enabled:
            return False
        data = {"answer_html": entry.answer, "entry_id": entry.entry_id, "offer_handover": True}
        turn.replies.append(Reply(answer_text(entry.answer), data))
        return True

    def _follow(self, turn: Turn, flow_turn: Any) -> None:
        order = flow_turn.data.get("order") if flow_turn.data else None
        for n, text in enumerate(flow_turn.replies):
            last = n == len(flow_turn.replies) - 1
            turn.replies.append(Reply(text, {"order": order} if last and order else {}))
        turn.state["flow"] = flow_turn.state.to_dict() if flow_turn.state is not None else None
        if flow_turn.handover:
            turn.handover = "flow"

    def _action_runner(self, config: BotConfigModel, visitor_id: str) -> ActionRunner:
        def run(action: str, slots: Mapping[str, str]) -> tuple[str, Mapping[str, Any]]:
            if action != "order_lookup":
                return "missing", {}
            order = self._orders.source(config).find(slots.get("order_number", ""))
            if order is None:
                return "missing", {}
            if order.buyer_id and shop_visitor_id(order.buyer_id) != visitor_id:
                # Someone else's order, or a buyer the shop has not vouched for: a person checks who asks.
                return "not_yours", {}
            return "found", {"order": {**order.template_data(), **order_view(order)}}

        return run
