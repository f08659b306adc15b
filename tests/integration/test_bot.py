"""The bot on moto, through the chat's WebSocket frames and the knowledge base's REST routes: greeting and
first questions, answers, suggestions, the order flow, handover with the conversation so far, the
learning loop, its figures, and bad input that writes nothing."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import Person, World

pytestmark = pytest.mark.integration

B = "BotFunction"
DEMO_KB = Path(__file__).resolve().parents[2] / "layers/shopdesk/shopdesk/data/demo_kb.json"


@pytest.fixture
def shop(world: World) -> World:
    """The demo knowledge base, first questions, a shipped order, the bot answering first, one agent online."""
    from shopdesk.auth import Principal
    from shopdesk.kb_files import validate_entry
    from shopdesk.orders import parse_order_event

    world.group("presales", ["尺码", "优惠"], default=True)
    world.group("aftersales", ["退货", "退款"])
    admin = Principal(role="admin", user_id="admin", name="admin", roles=("admin",))
    rows = [validate_entry(entry) for entry in json.loads(DEMO_KB.read_text(encoding="utf-8"))]
    world.container.knowledge.import_file(admin, rows)
    world.container.first_questions.replace([{"text": "尺码怎么选？", "entry_id": "kb-001"}])
    world.container.bot.update_settings(mode="bot_first")
    world.container.orders.apply(
        parse_order_event(
            {
                "event_id": "e-1",
                "type": "order.shipped",
                "occurred_at": "2026-11-24T08:00:00.000Z",
                "order": {
                    "order_number": "SD20261125001",
                    "status": "shipped",
                    "carrier": "顺丰速运",
                    "tracking_number": "SF1420000001",
                    "latest_event": "快件已到达上海转运中心",
                    "items": ["羽绒服 黑色 L"],
                },
            }
        )
    )
    return world


def bot_turns(person: Person) -> list[dict[str, Any]]:
    return [f["message"] for f in person.frames("message") if f["message"]["sender"]["role"] == "bot"]


def say(person: Person, session_id: str, text: str, **ref: str) -> list[dict[str, Any]]:
    """The bot's turns that answered this message."""
    before = len(bot_turns(person))
    fields: dict[str, Any] = {"session_id": session_id, "client_msg_id": f"m-{before}-{len(text)}", "text": text}
    if ref:
        fields["ref"] = ref
    frames = person.send("sendMessage", **fields)
    assert any(f["type"] == "ack" for f in frames), frames
    return bot_turns(person)[before:]


def opened(shop: World) -> tuple[Person, str]:
    visitor = shop.visitor()
    visitor.connect()
    return visitor, visitor.open_session()


def test_the_bot_greets_with_first_questions_and_answers_a_click(shop: World) -> None:
    # Given the bot answers first
    # When a customer opens a chat
    visitor, session_id = opened(shop)
    # Then the bot greets them with the first questions, and the session is the bot's
    greeting = bot_turns(visitor)[0]
    assert greeting["kind"] == "bot"
    assert [q["text"] for q in greeting["bot"]["first_questions"]] == ["尺码怎么选？"]
    status, session = visitor.get("VisitorFunction", f"/sessions/{session_id}")
    assert status == 200 and session["status"] == "bot", session
    # When they click the first question
    question_id = greeting["bot"]["first_questions"][0]["id"]
    replies = say(visitor, session_id, "尺码怎么选？", kind="first_question", id=question_id)
    # Then its linked entry answers, in rich text, and the click is counted
    assert replies[0]["bot"]["entry_id"] == "kb-001"
    assert "<b>尺码表</b>" in replies[0]["bot"]["answer_html"]
    assert "尺码表" in replies[0]["text"] and "<" not in replies[0]["text"]
    assert shop.container.first_questions.all()[0].clicks == 1


def test_a_question_in_other_words_is_answered_and_a_loose_one_gets_the_entry_or_suggestions(shop: World) -> None:
    # Given a customer talking to the bot
    visitor, session_id = opened(shop)
    # When they ask in their own words
    answer = say(visitor, session_id, "有没有尺码表，我不知道自己穿多大码")
    # Then the size entry answers it
    assert answer[0]["bot"].get("entry_id") == "kb-001", answer
    # When they ask in fewer, looser words
    loose = say(visitor, session_id, "衣服大了能换吗")
    # Then the bot answers or offers the exchange entry, rather than handing over
    offered = [loose[0]["bot"].get("entry_id")] + [s["entry_id"] for s in loose[0]["bot"].get("suggestions", [])]
    assert "kb-003" in offered, loose
    # When a suggestion is clicked, that entry answers
    suggested = say(visitor, session_id, "尺码怎么选？", kind="suggestion", entry_id="kb-001")
    assert suggested[0]["bot"]["entry_id"] == "kb-001"


def test_the_order_flow_asks_checks_and_looks_the_order_up(shop: World) -> None:
    # Given a customer talking to the bot
    visitor, session_id = opened(shop)
    # When they ask about their order
    asked = say(visitor, session_id, "帮我查一下我的订单到哪了")
    # Then the bot asks for the order number
    assert "订单号" in asked[-1]["text"], asked
    # When they send something that is not an order number
    invalid = say(visitor, session_id, "12345")
    # Then the bot says the format is wrong and asks again
    assert "格式" in invalid[-1]["text"], invalid
    # When they send a real one
    found = say(visitor, session_id, "SD20261125001")
    # Then the order's status and logistics come back, with a card
    assert "SD20261125001" in found[-1]["text"] and "顺丰" in found[-1]["text"], found
    assert found[-1]["bot"]["order"]["tracking_number"] == "SF1420000001"


def test_someone_elses_order_is_not_shown_and_a_person_takes_over(shop: World) -> None:
    # Given an order that belongs to a buyer the shop signed for
    from shopdesk.orders import parse_order_event

    event = {"event_id": "e-2", "type": "order.paid", "occurred_at": "2026-11-24T09:00:00.000Z"}
    order = {"order_number": "SD20261125002", "status": "paid", "buyer_id": "shop-buyer-7"}
    shop.container.orders.apply(parse_order_event({**event, "order": order}))
    agent = shop.staff(groups=("presales",))
    agent.connect()
    # When an anonymous customer asks the bot for it
    visitor, session_id = opened(shop)
    say(visitor, session_id, "查订单")
    replies = say(visitor, session_id, "SD20261125002")
    # Then the bot shows nothing of it, and hands the customer to a person who can check who they are
    assert all("order" not in r["bot"] for r in replies), replies
    status, session = visitor.get("VisitorFunction", f"/sessions/{session_id}")
    assert session["status"] == "active" and session["agent_id"] == agent.id, session


def test_transfer_to_a_person_hands_over_with_the_conversation_so_far(shop: World) -> None:
    # Given an agent online, and a customer who has talked to the bot
    agent = shop.staff(groups=("presales",))
    agent.connect()
    visitor, session_id = opened(shop)
    say(visitor, session_id, "衣服尺码偏大还是偏小")
    # When the customer asks for a person
    frames = visitor.send(
        "sendMessage", session_id=session_id, client_msg_id="h-1", text="转人工", ref={"kind": "handover"}
    )
    assert any(f["type"] == "ack" for f in frames), frames
    # Then the session goes to the agent, who reads the earlier bot turns
    status, session = visitor.get("VisitorFunction", f"/sessions/{session_id}")
    assert session["status"] == "active" and session["agent_id"] == agent.id, session
    status, history = agent.get("VisitorFunction", f"/sessions/{session_id}/messages", since=0)
    assert status == 200, history
    roles = [m["sender"]["role"] for m in history["items"]]
    assert roles.count("bot") >= 2 and "system" in roles, roles
    assert any(m["text"] == "衣服尺码偏大还是偏小" for m in history["items"])
    # And the bot's figures count one consult and one transfer
    status, stats = agent.get(B, "/bot/stats")
    assert status == 403
    leader = shop.staff(role="leader")
    status, stats = leader.get(B, "/bot/stats")
    assert status == 200 and stats["consults"] == 1 and stats["transfers"] == 1, stats


def test_an_unanswerable_question_hands_over_and_is_logged_for_the_learning_loop(shop: World) -> None:
    # Given a customer talking to the bot, and a leader
    leader = shop.staff(role="leader")
    visitor, session_id = opened(shop)
    # When they ask something the knowledge base does not cover, twice across chats
    say(visitor, session_id, "你们仓库的猫叫什么名字")
    other, other_session = opened(shop)
    say(other, other_session, "你们仓库的猫叫什么名字")
    # Then the question is listed, most asked first, with its count
    status, body = leader.get(B, "/bot/unanswered")
    assert status == 200 and body["items"][0]["text"] == "你们仓库的猫叫什么名字", body
    assert body["items"][0]["count"] == 2
    # When the leader adds it as a similar phrasing of an entry
    question_id = body["items"][0]["question_id"]
    status, resolved = leader.call(B, "POST", f"/bot/unanswered/{question_id}/resolve", {"entry_id": "kb-001"})
    assert status == 200, resolved
    # Then it leaves the list, and the bot answers it from that entry
    assert leader.get(B, "/bot/unanswered")[1]["items"] == []
    third, third_session = opened(shop)
    assert say(third, third_session, "你们仓库的猫叫什么名字")[0]["bot"]["entry_id"] == "kb-001"


def test_entries_are_edited_with_a_version_check_and_searched_by_agents(shop: World) -> None:
    # Given a leader and an agent
    leader = shop.staff(role="leader")
    agent = shop.staff(groups=("presales",))
    # When the leader adds an entry
    entry = {
        "question": "礼品卡怎么使用",
        "similar": ["购物卡可以抵扣吗"],
        "answer": "结算页选择礼品卡抵扣即可。",
        "category": "支付",
    }
    status, created = leader.call(B, "POST", "/kb/entries", entry)
    assert status == 201, created
    # Then an agent finds it in other words
    status, found = agent.get(B, "/kb/search", q="礼品卡能抵钱吗")
    assert status == 200 and found["items"][0]["entry_id"] == created["entry_id"], found
    # When two edits race on the same version, one wins and the other gets 409
    change = {**entry, "answer": "结算页勾选“礼品卡”，输入卡密即可抵扣。", "version": 1}
    assert leader.call(B, "PUT", f"/kb/entries/{created['entry_id']}", change)[0] == 200
    status, lost = leader.call(B, "PUT", f"/kb/entries/{created['entry_id']}", change)
    assert status == 409 and lost["code"] == "version_conflict", lost
    # And an agent may not edit
    assert agent.call(B, "POST", "/kb/entries", entry)[0] == 403


def test_bad_input_gets_a_code_and_writes_nothing(shop: World) -> None:
    # Given a leader, and the knowledge base as it is
    leader = shop.staff(role="leader")
    before = shop.container.knowledge.export()
    # When an entry has an empty question
    status, body = leader.call(B, "POST", "/kb/entries", {"question": " ", "answer": "x", "category": "物流"})
    # Then it is refused, naming the field
    assert status == 422 and body["details"]["field"] == "question", body
    # When an import file has bad rows
    csv = "question,answer,category\n怎么退货,七天内可退,退换货\n,没有问题,退换货\n好问题,好答案,不存在的分类\n"
    payload = {"filename": "kb.csv", "content_base64": base64.b64encode(csv.encode()).decode()}
    status, body = leader.call(B, "POST", "/kb/import", payload)
    # Then every bad row is named, and nothing is imported
    assert status == 422 and body["code"] == "import_rejected", body
    assert {(e["row"], e["field"]) for e in body["details"]["errors"]} >= {(3, "question"), (4, "category")}
    assert shop.container.knowledge.export() == before
    # When intent examples carry an unknown label
    lines = '{"query": "双十一有什么优惠", "intent": "activity_inquiry"}\n{"query": "你好", "intent": "no_such_intent"}'
    status, body = leader.call(B, "POST", "/bot/intents", {"jsonl": lines})
    # Then the line is named, and the live model is unchanged
    assert status == 422 and body["details"]["errors"][0]["line"] == 2, body
    assert shop.container.bot.config().intents_key == ""
    # When a flow names a step that does not exist
    flow = {
        "name": "x",
        "start": "ask",
        "steps": {"ask": {"type": "ask", "prompt": "?", "slot": "a", "next": "nowhere"}},
    }
    status, body = leader.call(B, "PUT", "/bot/flows/broken", {"definition": flow})
    # Then it is refused with the missing step named
    assert status == 422 and body["code"] == "invalid_flow" and "nowhere" in json.dumps(body, ensure_ascii=False)
    assert "broken" not in shop.container.bot.flows()
    # And an over-long question from a customer is refused by the chat as any message would be
    visitor, session_id = opened(shop)
    frames = visitor.send("sendMessage", session_id=session_id, client_msg_id="long", text="问" * 5000)
    assert frames[-1]["type"] == "error" and frames[-1]["code"] == "message_too_long", frames[-1]


def test_the_human_first_bot_steps_in_only_when_nobody_is_online(shop: World) -> None:
    # Given the bot set to human-first, a store open around the clock, and nobody online
    from shopdesk import keys
    from shopdesk.models import BusinessHours, StoreConfigModel

    weekly = {str(day): ["00:00", "24:00"] for day in range(7)}
    StoreConfigModel(keys.STORE_PK, keys.CONFIG_SK, business_hours=BusinessHours(weekly=weekly)).save()
    leader = shop.staff(role="leader", online=False)
    status, settings = leader.call(B, "PUT", "/bot/settings", {"mode": "human_first"})
    assert status == 200 and settings["mode"] == "human_first", settings
    # When a customer opens a chat, the widget is told the bot answers, and the bot takes it
    visitor, session_id = opened(shop)
    assert visitor.get("VisitorFunction", "/visitor/availability")[1]["bot"] is True
    assert bot_turns(visitor), "the bot should greet while nobody is online"
    # When an agent comes online, the next chat goes to people
    agent = shop.staff(groups=("presales",))
    agent.connect()
    other, _ = opened(shop)
    assert bot_turns(other) == []
    assert other.get("VisitorFunction", "/visitor/availability")[1]["bot"] is False


def test_the_bots_figures_count_per_three_minute_window_and_group(shop: World) -> None:
    # Given a customer who consults the bot about sizes (routed to presales by its words)
    from shopdesk.bot_stats import window_start

    stats = shop.container.bot.stats
    first_window = window_start(shop.clock.now())
    visitor, session_id = opened(shop)
    say(visitor, session_id, "尺码偏大还是偏小")
    # When the clock moves into the next 3-minute window and the customer asks for a person
    shop.clock.advance(minutes=3)
    say(visitor, session_id, "转人工")
    # Then each window holds what happened in it, for the store and for the group
    for scope in ("STORE", "GROUP#presales"):
        assert stats.window(scope, first_window)["consults"] == 1
        assert stats.window(scope, first_window)["transfers"] == 0
        later = stats.window(scope, window_start(shop.clock.now()))
        assert (later["consults"], later["transfers"], later["transfer_rate"]) == (0, 1, None)
    # And the day holds both, with the rate as it is
    day = stats.day("STORE")
    assert (day["consults"], day["transfers"], day["transfer_rate"]) == (1, 1, 1.0)


def test_an_xlsx_export_imports_back_as_updates(shop: World) -> None:
    # Given a leader exports the knowledge base as XLSX
    leader = shop.staff(role="leader")
    status, exported = leader.get(B, "/kb/export", format="xlsx")
    assert status == 200 and exported["filename"] == "knowledge-base.xlsx", exported
    count = len(shop.container.knowledge.export())
    # When they import the same file
    payload = {"filename": "knowledge-base.xlsx", "content_base64": exported["content_base64"]}
    status, body = leader.call(B, "POST", "/kb/import", payload)
    # Then every row updates its entry, and nothing is created twice
    assert (status, body) == (200, {"created": 0, "updated": count}), body
    assert shop.container.knowledge.get("kb-001").version == 2


def test_an_agent_gets_answers_suggested_for_the_customers_last_message(shop: World) -> None:
    # Given a customer handed over to an agent
    agent = shop.staff(groups=("presales",))
    agent.connect()
    other = shop.staff(groups=("presales",), online=False)
    visitor, session_id = opened(shop)
    say(visitor, session_id, "转人工")
    # When the customer asks, and the agent asks for suggestions
    visitor.say(session_id, "发票怎么开？要公司抬头的")
    status, body = agent.get(B, f"/kb/assist/{session_id}")
    # Then the customer's words come back with invoice answers
    assert status == 200 and body["query"] == "发票怎么开？要公司抬头的", body
    assert body["items"] and all(item["category"] == "发票" for item in body["items"][:1]), body
    # And another agent of the group, not serving it, may not read them
    assert other.get(B, f"/kb/assist/{session_id}")[0] == 403


def test_a_chat_the_bot_served_alone_closes_and_counts_as_bot_resolved_when_rated_solved(shop: World) -> None:
    # Given a customer the bot answered
    leader = shop.staff(role="leader")
    visitor, session_id = opened(shop)
    say(visitor, session_id, "有没有尺码表，我不知道自己穿多大码")
    # When they close the chat and rate it solved
    status, session = visitor.call("VisitorFunction", "POST", f"/visitor/sessions/{session_id}/end")
    assert status == 200 and session["status"] == "ended", session
    status, rated = visitor.call(
        "VisitorFunction", "POST", f"/sessions/{session_id}/rating", {"stars": 5, "solved": True}
    )
    assert status == 200, rated
    # Then the bot counts it as resolved, and closing it again is refused
    assert leader.get(B, "/bot/stats")[1]["resolved"] == 1
    status, again = visitor.call("VisitorFunction", "POST", f"/visitor/sessions/{session_id}/end")
    assert status == 409 and again["code"] == "session_closed", again


def test_a_greeting_is_greeted_back_not_handed_over(shop: World) -> None:
    # Given a customer talking to the bot
    visitor, session_id = opened(shop)
    # When they only say hello
    replies = say(visitor, session_id, "你好，在吗")
    # Then the bot greets back with the first questions, and keeps the chat
    assert replies and replies[0]["bot"]["first_questions"], replies
    status, session = visitor.get("VisitorFunction", f"/sessions/{session_id}")
    assert session["status"] == "bot", session


def test_a_flow_the_store_defines_as_data_runs_in_the_chat(shop: World) -> None:
    # Given a leader defines a flow that collects an email for an invoice
    leader = shop.staff(role="leader")
    flow = {
        "name": "开发票",
        "triggers": {"keywords": ["我要开票"]},
        "start": "ask_email",
        "steps": {
            "ask_email": {
                "type": "ask",
                "prompt": "请留下接收电子发票的邮箱。",
                "slot": "email",
                "pattern": r"[\w.+-]+@[\w-]+\.[\w.]+",
                "invalid": "邮箱格式不对，请再发一次。",
                "next": "done",
            },
            "done": {"type": "reply", "text": "好的，发票会在 24 小时内发送到 {email}。", "next": None},
        },
    }
    status, saved = leader.call(B, "PUT", "/bot/flows/invoice_email", {"definition": flow})
    assert status == 200 and saved["flow_id"] == "invoice_email", saved
    status, listed = leader.get(B, "/bot/flows")
    assert {f["flow_id"] for f in listed["items"]} == {"order_lookup", "invoice_email"}, listed
    # When a customer triggers it and answers
    visitor, session_id = opened(shop)
    assert "邮箱" in say(visitor, session_id, "我要开票")[-1]["text"]
    assert "格式" in say(visitor, session_id, "不告诉你")[-1]["text"]
    done = say(visitor, session_id, "buyer@example.com")
    # Then the flow finishes with the slot filled in
    assert "buyer@example.com" in done[-1]["text"], done


def test_a_synonym_the_store_adds_rebuilds_the_index_and_the_bot_understands_it(shop: World) -> None:
    # Given a customer's word the knowledge base does not use
    leader = shop.staff(role="leader")
    visitor, session_id = opened(shop)
    before = say(visitor, session_id, "收据怎么开")
    assert not before or before[0]["bot"].get("entry_id") is None, before
    # When a leader maps it onto the store's word
    status, body = leader.call(B, "PUT", "/bot/dictionary", {"words": ["收据"], "synonyms": {"收据": "发票"}})
    assert status == 200 and body["synonyms"] == {"收据": "发票"}, body
    # Then the bot answers it from the invoice entry, on the next chat
    other, other_session = opened(shop)
    answer = say(other, other_session, "收据怎么开")
    entries = {e["entry_id"]: e for e in shop.container.knowledge.export()}
    assert entries[answer[0]["bot"]["entry_id"]]["category"] == "发票", answer


def test_labelled_examples_train_the_stores_intent_model_which_the_bot_then_uses(shop: World) -> None:
    # Given a leader with the seed's labelled examples
    from shopdesk.intents import EXAMPLES_PATH

    leader = shop.staff(role="leader")
    lines = EXAMPLES_PATH.read_text(encoding="utf-8")
    # When they import them
    status, body = leader.call(B, "POST", "/bot/intents", {"jsonl": lines})
    # Then a model is trained, evaluated on a held-out share, and made the store's
    assert status == 200 and body["version"] == 1 and "order_status" in body["labels"], body
    assert body["held_out_accuracy"] >= 0.8, body
    assert shop.container.bot.config().intents_key == "bot/intents/model-1.json"
    # And the bot uses it: an order question starts the order flow
    visitor, session_id = opened(shop)
    assert "订单号" in say(visitor, session_id, "我买的东西到哪了")[-1]["text"]
