"""The supervisor dashboard in headless Chromium: a surge of waiting customers turns the figures red,
the group busy and the elevator with it; a leader suspends, resumes and regroups an agent and the
audit shows it; agents have no access."""

from __future__ import annotations

import math
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_web import PASSWORD, login
from tests.e2e.test_web_tickets import over_rest, watch_errors
from tests.e2e.wire import Api

pytestmark = pytest.mark.e2e

UI_TIMEOUT = 20_000
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results"
THRESHOLD = 0.5


def credentials(stack: dict[str, Any], role: str) -> tuple[str, str]:
    entry = next(login for login in stack["logins"] if login["role"] == role)
    return entry["username"], entry["password"]


def open_monitor(page: Page, stack: dict[str, Any], role: str = "leader") -> None:
    """Signs in to the workspace and follows its link to the dashboard, as a leader would."""
    login(page, stack, credentials(stack, role)[0])
    page.get_by_test_id("nav-monitor").click()
    expect(page).to_have_url(stack["web_url"] + "/monitor/")
    expect(page.get_by_test_id("shop-figures")).to_be_visible()
    expect(page.get_by_test_id("group-card").first).to_be_visible(timeout=UI_TIMEOUT)


def test_a_surge_turns_the_figures_red_and_the_group_busy(page: Page, local_stack: dict[str, Any]) -> None:
    marker = uuid.uuid4().hex[:6]

    async def given(api: Api) -> tuple[str, str, dict[str, Any]]:
        username, password = credentials(local_stack, "leader")
        leader = await api.login(username, password)
        status, before = await leader.call("GET", "/monitor/alerts")
        assert status == 200, before
        group_id, keyword, (agent,) = await api.group_with_agents(1)
        status, body = await agent.call("PUT", "/agent/status", {"status": "online"})
        assert status == 200, body
        # The new group and its agent are in the figures from the next computation on.
        status, body = await leader.call("POST", "/monitor/refresh")
        assert status == 200 and any(g["group_id"] == group_id for g in body["groups"]), body
        return group_id, keyword, dict(before)

    async def surge(api: Api, group_id: str, keyword: str) -> int:
        """Enough customers, none answered, for the shop's pending per online agent to pass the threshold."""
        username, password = credentials(local_stack, "leader")
        leader = await api.login(username, password)
        status, snapshot = await leader.call("POST", "/monitor/refresh")
        assert status == 200, snapshot
        now = snapshot["shop"]["now"]
        customers = max(3, math.floor(THRESHOLD * (now["online"] or 1)) - (now["pending"] or 0) + 1)
        for n in range(customers):
            visitor, _ = await api.visitor()
            socket = await visitor.socket()
            session_id = await socket.open_session(channel="web", page=f"https://shop.example/item/{n}")
            await socket.say(session_id, f"{keyword} 在吗？订单{marker}-{n}还没发货")
            await socket.close()
        return customers

    async def restore(api: Api, settings: dict[str, Any]) -> None:
        username, password = credentials(local_stack, "leader")
        leader = await api.login(username, password)
        status, body = await leader.call("PUT", "/monitor/alerts", settings)
        assert status == 200, body

    # Given a group with one online agent, and a leader on the dashboard
    group_id, keyword, before = over_rest(local_stack, given)
    errors = watch_errors(page)
    try:
        open_monitor(page, local_stack)
        expect(page.get_by_test_id("as-of")).not_to_have_text("")
        expect(page.get_by_test_id("trend-chart").locator("canvas").first).to_be_attached(timeout=UI_TIMEOUT)
        card = page.locator(f"[data-testid=group-card][data-group-id='{group_id}']")
        expect(card).to_be_attached(timeout=UI_TIMEOUT)
        expect(card).to_have_attribute("data-state", "absent")

        # When the leader opens the alert settings and names a recipient the server refuses
        page.get_by_test_id("alerts-open").click()
        dialog = page.get_by_test_id("alert-settings")
        expect(dialog).to_be_visible()
        dialog.get_by_test_id("alerts-shop-enabled").check()
        dialog.get_by_test_id("alerts-shop-threshold-pending_per_agent").fill(str(THRESHOLD))
        dialog.get_by_test_id("alerts-shop-recipients").fill("ops@example.c0m")
        dialog.get_by_test_id("alerts-save").click()
        # Then the server's reason is shown next to that field, and nothing is saved
        field_error = dialog.locator("[data-testid=alerts-field-error][data-field='shop.recipients']")
        expect(field_error).to_contain_text("ops@example.c0m")
        expect(dialog.get_by_test_id("alerts-error")).to_have_text("请修改标红的项")
        # When the leader clears it, sets a threshold for the group too and saves
        dialog.get_by_test_id("alerts-shop-recipients").fill("")
        dialog.get_by_test_id(f"alerts-group-{group_id}-enabled").check()
        dialog.get_by_test_id(f"alerts-group-{group_id}-threshold-pending_per_agent").fill(str(THRESHOLD))
        dialog.get_by_test_id(f"alerts-group-{group_id}-agent-threshold-pending").fill("1")
        dialog.get_by_test_id("alerts-save").click()
        # Then the settings are saved, and with nobody waiting yet the group is normal
        expect(dialog).to_be_hidden()
        expect(card).to_have_attribute("data-state", "normal", timeout=UI_TIMEOUT)
        expect(card.get_by_test_id("group-state")).to_have_text("正常")

        # When a surge of customers writes to the group's agent, and nobody answers
        customers = over_rest(local_stack, lambda api: surge(api, group_id, keyword))
        # And the leader presses refresh
        page.get_by_test_id("monitor-refresh").click()
        # Then the shop's pending per agent is red, with its threshold beside it
        figure = page.get_by_test_id("figure-pending_per_agent")
        expect(figure).to_have_attribute("data-alert", "true", timeout=UI_TIMEOUT)
        expect(figure.get_by_test_id("figure-threshold")).to_contain_text("0.5")
        expect(page.get_by_test_id("shop-figures")).to_have_attribute("data-alert", "true")
        # And the group is busy, its pending per agent red, its agent's pending red
        expect(card).to_have_attribute("data-state", "busy")
        expect(card.get_by_test_id("group-state")).to_have_text("繁忙")
        expect(card.get_by_test_id("group-figure-pending").get_by_test_id("figure-value")).to_have_text(str(customers))
        expect(card.get_by_test_id("group-figure-pending_per_agent")).to_have_attribute("data-alert", "true")
        expect(card.get_by_test_id("agent-row").first.get_by_test_id("agent-pending")).to_have_attribute(
            "data-alert", "true"
        )
        # And the alert list names the shop and the group
        alerts = page.get_by_test_id("alert-list").get_by_test_id("alert-item")
        expect(alerts.and_(page.locator("[data-scope=shop][data-figure=pending_per_agent]"))).to_be_visible()
        expect(alerts.and_(page.locator(f"[data-scope=group][data-group-id='{group_id}']"))).to_have_count(1)
        # And the elevator shows the group busy, with its alerts counted
        lift = page.get_by_test_id("elevator").locator(f"[data-testid=elevator-item][data-group-id='{group_id}']")
        expect(lift).to_have_attribute("data-state", "busy")
        expect(lift.get_by_test_id("elevator-alerts")).to_have_text("2")
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "monitor-surge.png"))
        # When the leader takes the elevator to the group
        lift.click()
        # Then its card scrolls into view
        expect(card).to_be_in_viewport(ratio=0.8)
        expect(lift).to_have_class(re.compile(r"\bis-current\b"))
        page.screenshot(path=str(SCREENSHOTS / "monitor-surge-group.png"))
        assert errors == []
    finally:
        over_rest(local_stack, lambda api: restore(api, before))


def test_a_leader_suspends_resumes_and_regroups_an_agent(page: Page, local_stack: dict[str, Any]) -> None:
    marker = uuid.uuid4().hex[:6]
    name = f"调度{marker}"

    async def given(api: Api) -> str:
        username, password = credentials(local_stack, "admin")
        admin = await api.login(username, password)
        new_agent = {"username": f"dispatch-{marker}", "name": name, "password": PASSWORD, "group_ids": ["logistics"]}
        status, body = await admin.call("POST", "/admin/agents", {**new_agent, "capacity": 3})
        assert status == 201, body
        return str(body["agent_id"])

    # Given an agent (signed out) in one of the leader's groups, and the leader on the dashboard
    agent_id = over_rest(local_stack, given)
    errors = watch_errors(page)
    open_monitor(page, local_stack)
    page.get_by_test_id("monitor-refresh").click()
    logistics = page.locator("[data-testid=group-card][data-group-id=logistics]")
    row = logistics.locator(f"[data-testid=agent-row][data-agent-id='{agent_id}']")
    expect(row).to_have_attribute("data-status", "offline", timeout=UI_TIMEOUT)

    # When the leader ticks the agent and suspends them
    row.get_by_test_id("agent-select").check()
    expect(page.get_by_test_id("dispatch-count")).to_have_text("已选 1 人")
    page.get_by_test_id("dispatch-suspend").click()
    # Then the row shows the agent suspended, and the outcome is reported
    expect(row).to_have_attribute("data-status", "suspended")
    expect(row.get_by_test_id("agent-status")).to_have_text("挂起")
    expect(page.get_by_test_id("dispatch-result")).to_have_text("挂起成功：1 人")
    expect(row.get_by_test_id("agent-select")).not_to_be_checked()
    # And the audit list shows who did it, to whom
    audit = page.get_by_test_id("audit-list").get_by_test_id("audit-item").filter(has_text=name)
    expect(audit.first).to_have_attribute("data-action", "agent.suspend")
    expect(audit.first).to_contain_text("刘组长")

    # When the leader resumes the agent
    row.get_by_test_id("agent-select").check()
    page.get_by_test_id("dispatch-resume").click()
    # Then the agent is no longer suspended
    expect(row).to_have_attribute("data-status", "offline")
    audit = page.get_by_test_id("audit-list").get_by_test_id("audit-item").filter(has_text=name)
    expect(audit.and_(page.locator("[data-action='agent.resume']"))).to_be_visible()

    # When the leader moves the agent to after-sales
    row.get_by_test_id("agent-select").check()
    page.get_by_test_id("dispatch-group-select").get_by_label("售后", exact=True).check()
    page.get_by_test_id("dispatch-change-group").click()
    # Then the agent is listed under after-sales and no longer under logistics
    moved = page.locator(f"[data-testid=group-card][data-group-id=aftersales] [data-agent-id='{agent_id}']")
    expect(moved).to_be_visible()
    expect(row).to_have_count(0)
    expect(audit.and_(page.locator("[data-action='agent.change_group']"))).to_contain_text("售后")

    # When the leader switches to English
    page.get_by_test_id("lang-switch").click()
    # Then the dashboard speaks English
    expect(page.get_by_test_id("as-of")).to_contain_text("As of")
    expect(page.get_by_test_id("dispatch-suspend")).to_have_text("Suspend")
    expect(moved.get_by_test_id("agent-status")).to_have_text("Offline")
    assert errors == []


def test_an_agent_has_no_access(page: Page, local_stack: dict[str, Any]) -> None:
    username, password = credentials(local_stack, "agent")
    # Given an agent who opens the dashboard's address
    page.goto(local_stack["web_url"] + "/monitor/")
    # When they sign in there
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    # Then they are told it is for leaders and admins, and no figures are shown
    expect(page.get_by_test_id("monitor-no-access")).to_be_visible()
    expect(page.get_by_test_id("shop-figures")).to_be_hidden()
    # And their workspace offers no link to it
    page.goto(local_stack["web_url"] + "/agent/")
    expect(page.get_by_test_id("agent-name")).to_be_visible()
    expect(page.get_by_test_id("nav-monitor")).to_be_hidden()
