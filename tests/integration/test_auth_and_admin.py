"""Login, visitor identities, and the admin's staff management, through the REST handlers."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration


def body_of(response):
    return response["statusCode"], json.loads(response["body"])


def test_staff_log_in_with_username_and_password(world):
    agent = world.staff(groups=())
    username = world.container.staff.require(agent.id).username
    status, body = body_of(
        world.rest("AuthFunction", "POST", "/auth/login", {"username": username, "password": "Test-pass-2026"})
    )
    assert status == 200 and body["id_token"] and body["user"]["roles"] == ["agent"]
    status, body = body_of(
        world.rest("AuthFunction", "POST", "/auth/login", {"username": username, "password": "wrong-pass-1"})
    )
    assert (status, body["code"]) == (401, "invalid_credentials")


def test_a_returning_shop_buyer_keeps_their_identity_and_history(world):
    from shopdesk.auth import sign_shop_user

    secret = world.container.auth._store_secret.value()
    ts = int(world.clock.now().timestamp())
    signed = {"user_id": "buyer-7", "ts": ts, "signature": sign_shop_user(secret, "itest", "buyer-7", ts)}
    status, first = body_of(world.rest("AuthFunction", "POST", "/visitor/token", {"shop_user": signed}))
    status, again = body_of(world.rest("AuthFunction", "POST", "/visitor/token", {"shop_user": signed}))
    assert status == 200 and first["visitor_id"] == again["visitor_id"]
    forged = {**signed, "user_id": "buyer-8"}
    status, body = body_of(world.rest("AuthFunction", "POST", "/visitor/token", {"shop_user": forged}))
    assert (status, body["code"]) == (401, "unauthenticated")


def test_an_anonymous_visitor_renews_their_token_and_stays_the_same_visitor(world):
    visitor = world.visitor()
    status, renewed = body_of(world.rest("AuthFunction", "POST", "/visitor/token", {"visitor_token": visitor.token}))
    assert status == 200 and renewed["visitor_id"] == visitor.id


def test_an_admin_creates_agents_with_groups_capacity_and_level(world):
    world.group("presales", ["尺码"], default=True)
    admin = world.staff(role="admin")
    status, created = admin.call(
        "AdminFunction",
        "POST",
        "/admin/agents",
        {
            "username": "newbie",
            "name": "新人",
            "password": "Newbie-pass-1",
            "group_ids": ["presales"],
            "capacity": 2,
            "level": 3,
        },
    )
    assert status == 201 and created["group_ids"] == ["presales"] and created["capacity"] == 2
    status, body = body_of(
        world.rest("AuthFunction", "POST", "/auth/login", {"username": "newbie", "password": "Newbie-pass-1"})
    )
    assert status == 200 and body["user"]["name"] == "新人"
    assert created["agent_id"] in world.container.groups.get("presales").member_ids
    status, body = admin.call(
        "AdminFunction",
        "POST",
        "/admin/agents",
        {"username": "newbie", "name": "重名", "password": "Newbie-pass-1"},
    )
    assert (status, body["code"]) == (409, "conflict")


def test_an_unknown_group_is_refused_before_any_account_exists(world):
    admin = world.staff(role="admin")
    status, body = admin.call(
        "AdminFunction",
        "POST",
        "/admin/agents",
        {"username": "ghost", "name": "幽灵", "password": "Ghost-pass-01", "group_ids": ["nowhere"]},
    )
    assert (status, body["code"]) == (422, "validation_error")
    status, body = body_of(
        world.rest("AuthFunction", "POST", "/auth/login", {"username": "ghost", "password": "Ghost-pass-01"})
    )
    assert status == 401


def test_only_admins_administer_and_only_staff_use_the_workspace(world):
    agent = world.staff()
    status, body = agent.call(
        "AdminFunction", "POST", "/admin/agents", {"username": "x1x", "name": "x", "password": "Whatever-123"}
    )
    assert (status, body["code"]) == (403, "forbidden")
    visitor = world.visitor()
    status, body = visitor.get("AgentFunction", "/agent/queue")
    assert (status, body["code"]) == (403, "forbidden")
    status, body = agent.call("VisitorFunction", "POST", "/offline-messages", {"text": "hi"})
    assert (status, body["code"]) == (403, "forbidden")


def test_moving_an_agent_between_groups_changes_where_chats_route(world):
    world.group("presales", ["尺码"], default=True)
    world.group("logistics", ["快递"])
    admin = world.staff(role="admin")
    agent = world.staff(groups=("presales",))
    status, changed = admin.call("AdminFunction", "PATCH", f"/admin/agents/{agent.id}", {"group_ids": ["logistics"]})
    assert status == 200 and changed["group_ids"] == ["logistics"]
    assert agent.id not in world.container.groups.get("presales").member_ids
    visitor = world.visitor()
    visitor.connect()
    session_id = visitor.open_session()
    visitor.say(session_id, "快递到哪了")
    assert world.container.chat.session(session_id).agent_id == agent.id


def test_a_suspended_agent_gets_no_new_chats(world):
    world.group("presales", ["尺码"], default=True)
    admin = world.staff(role="admin")
    agent = world.staff(groups=("presales",))
    admin.call("AdminFunction", "PATCH", f"/admin/agents/{agent.id}", {"suspended": True})
    visitor = world.visitor()
    visitor.connect()
    session_id = visitor.open_session()
    visitor.say(session_id, "你好")
    assert world.container.chat.session(session_id).status == "queued"
    admin.call("AdminFunction", "PATCH", f"/admin/agents/{agent.id}", {"suspended": False})
    assert world.container.chat.session(session_id).agent_id == agent.id


def test_the_scheduled_sweep_assigns_what_event_driven_draining_missed(world):
    world.group("presales", ["尺码"], default=True)
    agent = world.staff(groups=("presales",), online=False)
    visitor = world.visitor()
    visitor.connect()
    session_id = visitor.open_session()
    visitor.say(session_id, "你好")
    # The agent comes online by a path that does not drain (e.g. a failed drain)
    model = world.container.staff.require(agent.id)
    model.update(actions=[type(model).status.set("online")])
    result = world.stack.invoke("QueueSweepFunction", {"detail-type": "Scheduled Event", "source": "aws.events"})
    assert result == {"assigned": 1}
    assert world.container.chat.session(session_id).agent_id == agent.id
