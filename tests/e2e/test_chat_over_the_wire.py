"""Customer and agent over the local stack's real HTTP and WebSocket endpoints."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp
import pytest

from tests.e2e.wire import Api

pytestmark = pytest.mark.e2e


def run(coroutine: Any) -> Any:
    """On a thread of its own: Playwright's sync API may hold an event loop on the main thread."""
    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(asyncio.run, coroutine).result()


def test_a_customer_and_an_agent_chat_in_real_time(local_stack):
    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            api = Api(http, local_stack)
            group_id, keyword, (agent,) = await api.group_with_agents(1)
            await agent.call("PUT", "/agent/status", {"status": "online"})
            agent_socket = await agent.socket()
            visitor, visitor_id = await api.visitor()
            visitor_socket = await visitor.socket()
            session_id = await visitor_socket.open_session(channel="web", page="https://shop.example/item/1")
            # The customer's first words route the chat to the group and its agent
            ack = await visitor_socket.say(session_id, f"你好，我想问{keyword}")
            assert ack["seq"] == 1
            (assigned,) = await agent_socket.wait_for("assigned")
            assert assigned["session"]["session_id"] == session_id and assigned["session"]["group_id"] == group_id
            (first,) = await agent_socket.wait_for("message")
            assert first["message"]["text"] == f"你好，我想问{keyword}"
            # The agent replies and the customer sees it
            await agent_socket.say(session_id, "您好，请讲")
            replies = await visitor_socket.wait_for("message", 2)
            assert [m["message"]["seq"] for m in replies] == [1, 2]
            assert replies[-1]["message"]["sender"]["role"] == "agent"
            # The agent ends the chat and the customer rates it
            status, _ = await agent.call("POST", f"/sessions/{session_id}/end")
            assert status == 200
            ended = await visitor_socket.wait_for_status("ended")
            assert ended["session_id"] == session_id
            status, rated = await visitor.call(
                "POST", f"/sessions/{session_id}/rating", {"stars": 5, "comment": "很快", "solved": True}
            )
            assert status == 200 and rated["rating"]["stars"] == 5
            await agent_socket.close()
            await visitor_socket.close()

    run(scenario())


def test_a_duplicate_send_is_stored_once(local_stack):
    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            api = Api(http, local_stack)
            _, keyword, (agent,) = await api.group_with_agents(1)
            await agent.call("PUT", "/agent/status", {"status": "online"})
            visitor, _ = await api.visitor()
            socket = await visitor.socket()
            session_id = await socket.open_session()
            first = await socket.say(session_id, keyword, client_msg_id="same-id")
            again = await socket.say(session_id, keyword, client_msg_id="same-id")
            assert (first["seq"], first["duplicate"], again["seq"], again["duplicate"]) == (1, False, 1, True)
            status, history = await visitor.call("GET", f"/sessions/{session_id}/messages")
            assert status == 200 and [m["seq"] for m in history["items"]] == [1]
            await socket.close()

    run(scenario())


def test_a_customer_who_reconnects_mid_conversation_gets_what_they_missed(local_stack):
    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            api = Api(http, local_stack)
            _, keyword, (agent,) = await api.group_with_agents(1)
            await agent.call("PUT", "/agent/status", {"status": "online"})
            agent_socket = await agent.socket()
            visitor, _ = await api.visitor()
            socket = await visitor.socket()
            session_id = await socket.open_session()
            await socket.say(session_id, keyword)
            await agent_socket.wait_for("message")
            seen = max(f["message"]["seq"] for f in socket.of_type("message"))
            # The customer drops off while the agent keeps writing
            await socket.close()
            await agent_socket.say(session_id, "您在吗？")
            await agent_socket.say(session_id, "这款有现货")
            # Then reconnects, resumes the session and fetches the gap
            socket = await visitor.socket()
            await socket.send("openSession", session_id=session_id)
            resumed = (await socket.wait_for("session"))[0]["session"]
            assert resumed["session_id"] == session_id and resumed["status"] == "active"
            status, missed = await visitor.call("GET", f"/sessions/{session_id}/messages", since=seen)
            assert [m["text"] for m in missed["items"]] == ["您在吗？", "这款有现货"]
            # And live delivery works again on the new connection
            await agent_socket.say(session_id, "欢迎回来")
            (live,) = await socket.wait_for("message")
            assert live["message"]["text"] == "欢迎回来"
            await socket.close()
            await agent_socket.close()

    run(scenario())


def test_two_agents_racing_for_one_session_have_one_winner(local_stack):
    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            api = Api(http, local_stack)
            _, keyword, agents = await api.group_with_agents(2)
            visitor, _ = await api.visitor()
            socket = await visitor.socket()
            session_id = await socket.open_session()
            await socket.say(session_id, keyword)
            assert (await socket.wait_for_status("queued"))["queue_position"] == 1
            # Both agents come online at once: each drains the queue, and only one may take the session
            results = await asyncio.gather(
                *(agent.call("PUT", "/agent/status", {"status": "online"}) for agent in agents)
            )
            assert [status for status, _ in results] == [200, 200]
            loads = []
            for agent in agents:
                status, me = await agent.call("GET", "/me")
                loads.append(me["active_count"])
            assert sorted(loads) == [0, 1]
            # And racing to accept an already-taken session, both lose cleanly
            answers = await asyncio.gather(*(agent.call("POST", f"/sessions/{session_id}/accept") for agent in agents))
            assert sorted(status for status, _ in answers) == [409, 409]
            await socket.close()

    run(scenario())


def test_two_agents_accepting_the_same_offline_message_have_one_winner(local_stack):
    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            api = Api(http, local_stack)
            _, keyword, agents = await api.group_with_agents(2)
            visitor, _ = await api.visitor()
            status, left = await visitor.call(
                "POST", "/offline-messages", {"text": f"{keyword} 请回电", "contact": "微信 abc"}
            )
            assert status == 201
            for agent in agents:
                await agent.call("PUT", "/agent/status", {"status": "online"})
            answers = await asyncio.gather(
                *(agent.call("POST", f"/sessions/{left['session_id']}/accept") for agent in agents)
            )
            assert sorted(status for status, _ in answers) == [200, 409]
            loser = next(body for status, body in answers if status == 409)
            assert loser["code"] == "already_assigned"

    run(scenario())


def test_bad_frames_and_bad_tokens_over_the_wire(local_stack):
    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            api = Api(http, local_stack)
            visitor, _ = await api.visitor()
            socket = await visitor.socket()
            await socket.ws.send_str("{not json")
            (error,) = await socket.wait_for("error")
            assert error["code"] == "invalid_json"
            await socket.close()
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(f"{local_stack['ws_url']}?token=forged.token.value")
            assert refused.value.status in (401, 403)
            async with http.get(local_stack["api_url"] + "/agent/queue") as response:
                assert response.status == 401
                assert (await response.json())["code"] == "unauthenticated"

    run(scenario())
