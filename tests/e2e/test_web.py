"""The web app in headless Chromium: a customer types in the widget, the agent answers in the workspace."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

pytestmark = pytest.mark.e2e

PASSWORD = "Demo-pass-2026"


def login(agent: Page, stack: dict[str, Any], username: str) -> None:
    agent.goto(stack["web_url"] + "/agent/")
    agent.get_by_test_id("login-username").fill(username)
    agent.get_by_test_id("login-password").fill(PASSWORD)
    agent.get_by_test_id("login-submit").click()
    expect(agent.get_by_test_id("agent-name")).to_be_visible()
    expect(agent.get_by_test_id("agent-status")).to_have_value("online")


def open_widget(shop: Page, stack: dict[str, Any]) -> None:
    shop.goto(stack["web_url"] + "/shop/")
    shop.get_by_test_id("widget-open").click()
    expect(shop.get_by_test_id("widget-panel")).to_be_visible()
    # With nobody online the widget offers an offline message first; the customer may chat anyway.
    offline = shop.get_by_test_id("widget-offline-form")
    if offline.is_visible():
        offline.get_by_role("button").last.click()
    expect(shop.get_by_test_id("widget-input")).to_be_editable()


def test_a_customer_and_an_agent_chat_through_the_web_app(
    page: Page, context: BrowserContext, local_stack: dict[str, Any]
):
    errors: list[str] = []
    agent, shop = page, context.new_page()
    for page in (agent, shop):
        page.on("pageerror", lambda error: errors.append(str(error)))
    # Given an agent of the default group, online in the workspace
    login(agent, local_stack, "agent2")
    # When a customer asks in the widget, with markup in their words
    open_widget(shop, local_stack)
    question = "这件外套有L码吗？<b>粗体</b><img src=x onerror=alert(1)>"
    shop.get_by_test_id("widget-input").fill(question)
    shop.get_by_test_id("widget-send").click()
    # Then the agent sees the chat, with the words shown as text, not as HTML
    incoming = agent.get_by_test_id("chat-message").filter(has_text="这件外套有L码吗")
    expect(incoming).to_have_attribute("data-role", "visitor")
    expect(incoming).to_contain_text("<b>粗体</b>")
    assert agent.locator("[data-testid=chat-messages] b, [data-testid=chat-messages] img[src=x]").count() == 0
    expect(agent.get_by_test_id("visitor-panel")).to_contain_text("售前")
    # When the agent replies
    agent.get_by_test_id("reply-input").fill("有的亲，L码有现货")
    agent.get_by_test_id("reply-send").click()
    # Then the customer sees the reply
    reply = shop.get_by_test_id("widget-message").filter(has_text="L码有现货")
    expect(reply).to_have_attribute("data-role", "agent")
    expect(shop.get_by_test_id("widget-status")).to_contain_text("小李")
    # When the agent ends the chat, the customer rates it
    agent.get_by_test_id("end-session").click()
    expect(shop.get_by_test_id("widget-rating")).to_be_visible()
    shop.get_by_test_id("rating-star-5").click()
    shop.get_by_test_id("rating-solved-yes").click()
    shop.get_by_test_id("rating-comment").fill("回复很快")
    shop.get_by_test_id("rating-submit").click()
    expect(shop.get_by_text("感谢您的评价")).to_be_visible()
    assert errors == []


def test_the_widget_switches_to_english(page: Page, local_stack: dict[str, Any]):
    open_widget(page, local_stack)
    shop = page
    expect(shop.get_by_test_id("widget-send")).to_have_text("发送")
    shop.get_by_test_id("widget-lang").click()
    expect(shop.get_by_test_id("widget-send")).to_have_text("Send")
