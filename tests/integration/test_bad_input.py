"""Bad input gets a clear error with a machine-readable code, and nothing is written."""

from __future__ import annotations

import json
import uuid

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def chat(opened_chat):
    world, agent, visitor, session_id = opened_chat
    visitor.say(session_id, "你好")
    return opened_chat


def history(person, session_id):
    status, page = person.get("VisitorFunction", f"/sessions/{session_id}/messages")
    assert status == 200
    return [m["seq"] for m in page["items"]]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("{not json", "invalid_json"),
        ("[1, 2]", "invalid_json"),
        (json.dumps({"action": "dance"}), "unknown_route"),
        (json.dumps({"no_action": True}), "unknown_route"),
    ],
)
def test_malformed_frames_and_unknown_routes_get_an_error_frame(chat, body, code):
    world, agent, visitor, session_id = chat
    frames = visitor.raw(body)
    assert frames[-1]["type"] == "error" and frames[-1]["code"] == code and frames[-1]["message"]
    assert history(visitor, session_id) == [1]


def test_a_message_over_4000_characters_is_refused_and_not_stored(chat):
    world, agent, visitor, session_id = chat
    reply = visitor.say(session_id, "好" * 4001)
    assert reply["code"] == "message_too_long"
    assert history(visitor, session_id) == [1]
    assert visitor.say(session_id, "好" * 4000)["type"] == "ack"


def test_a_frame_over_32_kb_is_refused(chat):
    world, agent, visitor, session_id = chat
    body = json.dumps({"action": "sendMessage", "session_id": session_id, "client_msg_id": "x", "text": "a" * 33_000})
    frames = visitor.raw(body)
    assert frames[-1]["code"] == "frame_too_large"
    assert history(visitor, session_id) == [1]


def test_missing_fields_name_the_field(chat):
    world, agent, visitor, session_id = chat
    frames = visitor.send("sendMessage", session_id=session_id, text="hi")
    assert frames[-1]["code"] == "validation_error"
    assert frames[-1]["details"]["fields"][0]["field"] == "client_msg_id"


def test_a_visitor_cannot_write_to_or_read_another_visitors_session(chat):
    world, agent, visitor, session_id = chat
    intruder = world.visitor()
    intruder.connect()
    reply = intruder.say(session_id, "我也来")
    assert reply["code"] == "not_participant"
    status, body = intruder.get("VisitorFunction", f"/sessions/{session_id}/messages")
    assert (status, body["code"]) == (403, "not_participant")
    status, body = intruder.get("VisitorFunction", f"/sessions/{session_id}")
    assert (status, body["code"]) == (403, "not_participant")
    assert history(visitor, session_id) == [1]


def test_an_agent_cannot_touch_a_session_not_assigned_to_them(chat):
    world, agent, visitor, session_id = chat
    other = world.staff(groups=("presales",))
    other.connect()
    assert other.say(session_id, "我来回答")["code"] == "not_participant"
    status, body = other.call("AgentFunction", "POST", f"/sessions/{session_id}/end")
    assert (status, body["code"]) == (403, "not_participant")
    status, body = other.get("VisitorFunction", f"/sessions/{session_id}/messages")
    assert (status, body["code"]) == (403, "not_participant")
    assert history(visitor, session_id) == [1]


def test_writing_to_an_ended_session_is_refused(chat):
    world, agent, visitor, session_id = chat
    agent.call("AgentFunction", "POST", f"/sessions/{session_id}/end")
    assert visitor.say(session_id, "还有问题")["code"] == "session_closed"
    assert agent.say(session_id, "好的")["code"] == "session_closed"


def test_sending_too_fast_is_rate_limited_with_its_own_code(chat):
    world, agent, visitor, session_id = chat
    limit = int(world.container.store.config().messages_per_minute)
    replies = [visitor.say(session_id, f"刷屏{n}") for n in range(limit + 2)]
    codes = [r.get("code") for r in replies]
    assert codes.count("rate_limited") >= 2
    stored = history(visitor, session_id)
    assert len(stored) == limit  # the first message plus limit - 1 more in this window
    # And a minute later the visitor may speak again
    world.clock.advance(seconds=61)
    assert visitor.say(session_id, "现在可以了吗")["type"] == "ack"


def test_disallowed_image_types_and_sizes_are_refused(chat):
    world, agent, visitor, session_id = chat
    status, body = visitor.call(
        "VisitorFunction",
        "POST",
        "/uploads",
        {"session_id": session_id, "content_type": "image/svg+xml", "size": 10},
    )
    assert (status, body["code"]) == (400, "image_type_not_allowed")
    status, body = visitor.call(
        "VisitorFunction",
        "POST",
        "/uploads",
        {"session_id": session_id, "content_type": "image/png", "size": 6 << 20},
    )
    assert (status, body["code"]) == (400, "image_too_large")
    frames = visitor.send(
        "sendMessage",
        session_id=session_id,
        client_msg_id=uuid.uuid4().hex,
        kind="image",
        image_key="sessions/x/y.png",
    )
    assert frames[-1]["code"] == "image_missing"
    assert history(visitor, session_id) == [1]


@pytest.mark.parametrize("token", [None, "garbage", "eyJhbGciOiJIUzI1NiJ9.e30.c2ln"])
def test_a_missing_or_forged_token_cannot_connect_or_call(world, token):
    decision = world.authorize(token)
    assert decision["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    response = world.rest("VisitorFunction", "GET", "/visitor/sessions", token=token)
    assert response["statusCode"] == 401
    assert json.loads(response["body"])["code"] == "unauthenticated"


def test_an_expired_staff_token_is_refused(world):
    agent = world.staff()
    world.clock.advance(hours=13)
    decision = world.authorize(agent.token)
    assert decision["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert decision["context"]["code"] == "unauthenticated"
    status, body = agent.get("AgentFunction", "/me")
    assert (status, body["code"]) == (401, "unauthenticated")


def test_a_token_for_another_client_or_store_is_refused(world):
    import boto3

    agent = world.staff()
    cognito = boto3.client("cognito-idp", endpoint_url=world.stack.endpoint)
    pool = world.stack.resources.refs["UserPool"]
    # Given a token of another app client of the same pool (wrong audience)
    other_client = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="other", ExplicitAuthFlows=["USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    username = cognito.admin_get_user(UserPoolId=pool, Username=agent_username(world, agent))["Username"]
    foreign = cognito.initiate_auth(
        ClientId=other_client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": "Test-pass-2026"},
    )["AuthenticationResult"]["IdToken"]
    response = world.rest("AgentFunction", "GET", "/me", token=foreign)
    assert (response["statusCode"], json.loads(response["body"])["code"]) == (401, "unauthenticated")
    # And a user of this pool whose store claim names another store
    cognito.admin_create_user(
        UserPoolId=pool,
        Username="elsewhere",
        MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "custom:store_id", "Value": "another-store"}],
    )
    cognito.admin_set_user_password(UserPoolId=pool, Username="elsewhere", Password="Test-pass-2026", Permanent=True)
    cognito.admin_add_user_to_group(UserPoolId=pool, Username="elsewhere", GroupName="agent")
    client = world.stack.resources.refs["UserPoolClient"]
    stranger = cognito.initiate_auth(
        ClientId=client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "elsewhere", "PASSWORD": "Test-pass-2026"},
    )["AuthenticationResult"]["IdToken"]
    response = world.rest("AgentFunction", "GET", "/me", token=stranger)
    assert (response["statusCode"], json.loads(response["body"])["code"]) == (403, "wrong_store")


def agent_username(world, agent):
    return world.container.staff.require(agent.id).username


def test_bad_rest_bodies_get_422_with_the_fields_and_write_nothing(world):
    admin = world.staff(role="admin")
    status, body = admin.call("AdminFunction", "POST", "/admin/agents", {"username": "x", "capacity": 0})
    assert status == 422 and body["code"] == "validation_error"
    assert {f["field"] for f in body["details"]["fields"]} >= {"username", "name", "password", "capacity"}
    response = world.rest("AdminFunction", "POST", "/admin/agents", token=admin.token, raw_body="{oops")
    assert (response["statusCode"], json.loads(response["body"])["code"]) == (400, "invalid_json")
    status, page = admin.get("AdminFunction", "/admin/agents")
    assert [a["role"] for a in page["items"]] == ["admin"]
