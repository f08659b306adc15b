"""The bot and the knowledge base in headless Chromium: a customer is served by the bot, asks for a person,
and the agent who takes over reads the bot's turns and answers from the knowledge base; a leader keeps the
knowledge base."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.test_web import login
from tests.e2e.test_web_tickets import over_rest, watch_errors
from tests.e2e.wire import Api

pytestmark = pytest.mark.e2e

UI_TIMEOUT = 15_000
# The demo store's first question linked to the size entry, and the agent of its group (售前) who takes over.
FIRST_QUESTION = "尺码怎么选"
PRESALES_AGENT = "agent2"
PRESALES_AGENT_NAME = "小李"
DEMO_ORDER = "SD20261125001"  # seeded by infra/local/seed.py, shipped


def logins_by_username(stack: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {entry["username"]: entry for entry in stack["logins"]}


def open_widget(shop: Page, stack: dict[str, Any]) -> None:
    """Opens the widget and waits for the chat, passing the offline form shown while no agent is online."""
    shop.goto(stack["web_url"] + "/shop/")
    shop.get_by_test_id("widget-open").click()
    ready = shop.locator("[data-testid=widget-offline-form]:visible, [data-testid=widget-input]:enabled")
    expect(ready.first).to_be_visible(timeout=UI_TIMEOUT)
    if shop.get_by_test_id("widget-offline-form").is_visible():
        shop.get_by_test_id("widget-chat-anyway").click()
    expect(shop.get_by_test_id("widget-input")).to_be_editable(timeout=UI_TIMEOUT)


def only_online_in_presales(stack: dict[str, Any], username: str) -> None:
    """Earlier tests may have left other presales staff online: sign them off, so the handover lands here."""
    logins = logins_by_username(stack)

    async def script(api: Api) -> None:
        for other in ("agent1", "leader"):
            if other == username or other not in logins:
                continue
            staff = await api.login(other, logins[other]["password"])
            status, body = await staff.call("PUT", "/agent/status", {"status": "offline"})
            assert status == 200, body

    over_rest(stack, script)


def test_the_bot_serves_a_customer_who_then_gets_an_agent_answering_from_the_knowledge_base(
    page: Page, context: BrowserContext, local_stack: dict[str, Any], bot_first: None
) -> None:
    agent, shop = page, context.new_page()
    errors = watch_errors(agent, shop)

    # Given the demo store, whose bot answers first from its knowledge base (bot_first)
    # When a customer opens the widget
    open_widget(shop, local_stack)
    # Then the assistant serves them: it greets them with one-click first questions and a way to a person
    expect(shop.get_by_test_id("widget-status")).to_have_text("智能助手为您服务", timeout=UI_TIMEOUT)
    greeting = shop.get_by_test_id("bot-message").first
    expect(greeting).to_have_attribute("data-role", "bot")
    expect(greeting.get_by_test_id("bot-name")).to_have_text("智能助手")
    expect(greeting.get_by_test_id("first-question").first).to_be_visible()
    expect(shop.get_by_test_id("widget-handover")).to_be_visible()

    # When they click the first question about sizes
    greeting.get_by_test_id("first-question").filter(has_text=FIRST_QUESTION).click()
    # Then their question is sent as theirs and the bot answers it, as rich text
    asked = shop.get_by_test_id("widget-message").filter(has_text=FIRST_QUESTION)
    expect(asked).to_have_attribute("data-role", "visitor")
    answer = shop.get_by_test_id("bot-message").nth(1)
    expect(answer.get_by_test_id("bot-answer")).to_have_attribute("data-rich", "true", timeout=UI_TIMEOUT)
    expect(answer.get_by_test_id("bot-answer")).to_contain_text("尺码")
    # And nothing in the answer can run script
    assert shop.locator("[data-testid=bot-answer] script, [data-testid=bot-answer] [onerror]").count() == 0

    # When they ask about sizes in words of their own
    shop.get_by_test_id("widget-input").fill("衣服买大了可以换小一码吗")
    shop.get_by_test_id("widget-send").click()
    # Then the bot answers, or offers the entries it thinks they mean
    reply = shop.get_by_test_id("bot-message").nth(2)
    expect(reply).to_be_visible(timeout=UI_TIMEOUT)
    answered_or_suggested = reply.locator("[data-testid=bot-answer][data-rich=true], [data-testid=bot-suggestion]")
    expect(answered_or_suggested.first).to_be_visible()
    suggestions = reply.get_by_test_id("bot-suggestion")
    if suggestions.count():
        # And a suggestion clicked is answered
        expect(suggestions.first).to_have_attribute("data-entry-id", re.compile(r".+"))
        suggestions.first.click()
        expect(shop.get_by_test_id("bot-message").nth(3).get_by_test_id("bot-answer")).to_have_attribute(
            "data-rich", "true", timeout=UI_TIMEOUT
        )

    # Given an agent of the sizes' group online in the workspace, not a leader
    only_online_in_presales(local_stack, PRESALES_AGENT)
    login(agent, local_stack, PRESALES_AGENT)
    expect(agent.get_by_test_id("nav-kb")).to_be_hidden()
    # When the customer asks for a person
    shop.get_by_test_id("widget-input").fill("转人工")
    shop.get_by_test_id("widget-send").click()
    # Then the widget shows the handover and the agent's name, and the bot's shortcut is gone
    expect(shop.get_by_test_id("widget-message").filter(has_text="转接人工")).to_be_visible(timeout=UI_TIMEOUT)
    expect(shop.get_by_test_id("widget-status")).to_contain_text(PRESALES_AGENT_NAME, timeout=UI_TIMEOUT)
    expect(shop.get_by_test_id("widget-handover")).to_be_hidden()
    # And the agent has the chat, with the bot's earlier turns in the transcript
    pane = agent.get_by_test_id("chat-pane")
    expect(pane).to_be_visible(timeout=UI_TIMEOUT)
    expect(
        pane.locator("[data-testid=chat-message][data-role=visitor]").filter(has_text=FIRST_QUESTION)
    ).to_be_visible()
    bot_turns = pane.locator("[data-testid=chat-message][data-role=bot]")
    expect(bot_turns.first.get_by_test_id("bot-name")).to_have_text("智能助手")
    assert bot_turns.count() >= 2
    expect(pane.locator("[data-role=bot] [data-testid=bot-answer][data-rich=true]").first).to_be_visible()

    # When the agent searches the knowledge base and inserts an answer into the reply box
    agent.get_by_test_id("kb-search").fill("退货")
    result = agent.get_by_test_id("kb-result").first
    expect(result).to_be_visible(timeout=UI_TIMEOUT)
    expect(result).to_have_attribute("data-entry-id", re.compile(r".+"))
    result.get_by_test_id("kb-insert").click()
    reply_input = agent.get_by_test_id("reply-input")
    expect(reply_input).not_to_have_value("")
    inserted = reply_input.input_value()
    assert "<" not in inserted, inserted
    # And sends it
    agent.get_by_test_id("reply-send").click()
    # Then the customer receives it from the agent
    first_line = inserted.strip().splitlines()[0][:12]
    received = shop.get_by_test_id("widget-message").filter(has_text=first_line)
    expect(received).to_have_attribute("data-role", "agent", timeout=UI_TIMEOUT)

    # When the customer asks something new
    shop.get_by_test_id("widget-input").fill("发货后多久能到？")
    shop.get_by_test_id("widget-send").click()
    # Then the agent's suggested answers follow the customer's last words
    expect(agent.get_by_test_id("kb-assist-query")).to_contain_text("发货后多久能到", timeout=UI_TIMEOUT)
    expect(agent.get_by_test_id("kb-assist-item").first).to_be_visible()
    agent.get_by_test_id("end-session").click()
    assert errors == []


def test_a_leader_adds_and_edits_a_knowledge_base_entry(page: Page, local_stack: dict[str, Any]) -> None:
    errors = watch_errors(page)
    marker = uuid.uuid4().hex[:6]
    question = f"羽绒服可以机洗吗 {marker}"
    # Given a leader in the workspace
    login(page, local_stack, "leader")
    # When they open the knowledge base tab
    page.get_by_test_id("nav-kb").click()
    expect(page.get_by_test_id("kb-view")).to_be_visible()
    expect(page.get_by_test_id("kb-entry-row").first).to_be_visible(timeout=UI_TIMEOUT)
    # And write a new entry, with markup the preview shows safely
    page.get_by_test_id("kb-new").click()
    form = page.get_by_test_id("kb-form")
    form.get_by_test_id("kb-field-question").fill(question)
    form.get_by_test_id("kb-field-similar").fill("羽绒服能不能水洗\n羽绒服怎么洗")
    answer = '<p>建议<b>手洗</b>，水温不超过 30℃。</p><img src=x onerror="window.pwned=1">'
    form.get_by_test_id("kb-field-answer").fill(answer)
    expect(form.get_by_test_id("kb-answer-preview").locator("b")).to_have_text("手洗")
    assert form.get_by_test_id("kb-answer-preview").locator("img").count() == 0
    form.get_by_test_id("kb-field-category").select_option("商品")
    form.get_by_test_id("kb-field-tags").fill("羽绒服, 洗涤")
    form.get_by_test_id("kb-save").click()
    # Then it is saved and listed
    expect(form).to_have_attribute("data-entry-id", re.compile(r".+"), timeout=UI_TIMEOUT)
    entry_id = form.get_attribute("data-entry-id")
    row = page.locator(f"[data-testid=kb-entry-row][data-entry-id='{entry_id}']")
    expect(row).to_contain_text(question)
    expect(form).to_have_attribute("data-version", "1")

    # When they edit it
    form.get_by_test_id("kb-field-question").fill(f"{question}（已更新）")
    form.get_by_test_id("kb-field-enabled").uncheck()
    form.get_by_test_id("kb-save").click()
    # Then the list shows the new wording, disabled, at the next version
    expect(row).to_contain_text("已更新", timeout=UI_TIMEOUT)
    expect(row).to_contain_text("已停用")
    expect(form).to_have_attribute("data-version", "2")

    # When someone else changes it meanwhile and the leader saves an older copy
    async def change(api: Api) -> None:
        leader = await api.login("leader", logins_by_username(local_stack)["leader"]["password"])
        status, body = await leader.call("GET", f"/kb/entries/{entry_id}")
        assert status == 200, body
        status, body = await leader.call("PUT", f"/kb/entries/{entry_id}", {**body, "answer": "<p>请送干洗。</p>"})
        assert status == 200, body

    over_rest(local_stack, change)
    form.get_by_test_id("kb-field-tags").fill("羽绒服")
    form.get_by_test_id("kb-save").click()
    # Then they are told to refresh, and the refresh brings the other change
    expect(form.get_by_test_id("kb-conflict")).to_contain_text("已被他人修改，请刷新", timeout=UI_TIMEOUT)
    form.get_by_test_id("kb-reload").click()
    expect(form.get_by_test_id("kb-field-answer")).to_have_value("<p>请送干洗。</p>", timeout=UI_TIMEOUT)
    expect(form).to_have_attribute("data-version", "3")

    # When the server refuses a field (too many similar phrasings)
    form.get_by_test_id("kb-field-similar").fill("\n".join(f"羽绒服洗法{n}" for n in range(40)))
    form.get_by_test_id("kb-save").click()
    # Then its error shows next to that field
    expect(form.get_by_test_id("kb-error-similar")).not_to_be_empty(timeout=UI_TIMEOUT)
    expect(form).to_have_attribute("data-version", "3")
    # And a required field left empty is caught before it is sent
    form.get_by_test_id("kb-field-question").fill("")
    form.get_by_test_id("kb-save").click()
    expect(form.get_by_test_id("kb-error-question")).not_to_be_empty()

    # When they delete the entry (asked twice)
    form.get_by_test_id("kb-delete").click()
    form.get_by_test_id("kb-delete").click()
    # Then it leaves the list
    expect(row).to_have_count(0, timeout=UI_TIMEOUT)
    assert page.evaluate("window.pwned") is None
    assert errors == []


def test_the_bot_looks_up_an_order_as_a_card_and_the_customer_ends_and_rates_the_chat(
    page: Page, local_stack: dict[str, Any], bot_first: None
) -> None:
    errors = watch_errors(page)
    order_number = DEMO_ORDER
    # Given a customer the bot serves
    open_widget(page, local_stack)
    expect(page.get_by_test_id("widget-status")).to_have_text("智能助手为您服务", timeout=UI_TIMEOUT)
    # When they ask where their order is
    page.get_by_test_id("widget-input").fill(f"我的订单 {order_number} 到哪了")
    page.get_by_test_id("widget-send").click()
    # Then the bot answers with a card of that order: its status and what is in it
    card = page.get_by_test_id("bot-order-card")
    expect(card).to_have_attribute("data-order-number", order_number, timeout=UI_TIMEOUT)
    expect(card.get_by_test_id("bot-order-status")).not_to_be_empty()
    expect(card.get_by_test_id("bot-order-amount")).to_contain_text("¥")
    # When the customer, satisfied, ends the chat with the bot
    page.get_by_test_id("widget-finish").click()
    # Then they rate it like any chat, and the bot may count it as resolved
    expect(page.get_by_test_id("widget-rating")).to_be_visible(timeout=UI_TIMEOUT)
    page.get_by_test_id("rating-star-5").click()
    page.get_by_test_id("rating-solved-yes").click()
    page.get_by_test_id("rating-submit").click()
    expect(page.get_by_text("感谢您的评价")).to_be_visible(timeout=UI_TIMEOUT)
    assert errors == []
