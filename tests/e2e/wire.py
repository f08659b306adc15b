"""Clients that speak to the local stack over real HTTP and WebSocket, as the web app does."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
FRAME_TIMEOUT = 10
START_TIMEOUT = 90


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def local_stack(log: IO[Any] | int, *options: str) -> Iterator[tuple[dict[str, Any], subprocess.Popen[bytes]]]:
    """The local stack as `make run` starts it, on free ports; yields its ready file and its process."""
    with tempfile.TemporaryDirectory() as folder:
        ready = Path(folder) / "ready.json"
        ports = ["--web-port", str(free_port()), "--api-port", str(free_port()), "--moto-port", str(free_port())]
        command = [sys.executable, "-m", "infra.local.run", *ports, "--ready-file", str(ready), *options]
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while not ready.exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the local stack did not start")
                time.sleep(0.2)
            yield json.loads(ready.read_text()), process
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def set_bot_mode(stack: dict[str, Any], mode: str) -> None:
    """The demo store's bot answers first; tests of the human side switch it off, as an admin would."""
    import urllib.request

    admin = next(login for login in stack["logins"] if login["role"] == "admin")

    def call(method: str, path: str, body: dict[str, Any], token: str = "") -> dict[str, Any]:
        request = urllib.request.Request(
            stack["api_url"] + path,
            data=json.dumps(body).encode(),
            method=method,
            headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return dict(json.loads(response.read()))

    token = call("POST", "/auth/login", {"username": admin["username"], "password": admin["password"]})["id_token"]
    assert call("PUT", "/bot/settings", {"mode": mode}, token)["mode"] == mode


class Api:
    def __init__(self, http: aiohttp.ClientSession, stack: dict[str, Any], token: str | None = None) -> None:
        self.http = http
        self.stack = stack
        self.token = token

    async def call(self, method: str, path: str, body: Any = None, **query: Any) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with self.http.request(
            method, self.stack["api_url"] + path, json=body, params=query or None, headers=headers
        ) as response:
            return response.status, await response.json(content_type=None)

    async def login(self, username: str, password: str) -> Api:
        status, body = await self.call("POST", "/auth/login", {"username": username, "password": password})
        assert status == 200, body
        return Api(self.http, self.stack, body["id_token"])

    async def visitor(self) -> tuple[Api, str]:
        status, body = await self.call("POST", "/visitor/token", {})
        assert status == 200, body
        return Api(self.http, self.stack, body["token"]), body["visitor_id"]

    async def group_with_agents(
        self, count: int, password: str = "Wire-pass-2026", capacity: int = 5
    ) -> tuple[str, str, list[Api]]:
        """A skill group of its own, with its keyword and logged-in agents: users of one stack never mix."""
        admin_login = next(login for login in self.stack["logins"] if login["role"] == "admin")
        admin = await self.login(admin_login["username"], admin_login["password"])
        group_id = f"g{uuid.uuid4().hex[:8]}"
        keyword = f"暗号{group_id}"
        status, _ = await admin.call("PUT", f"/admin/groups/{group_id}", {"name": group_id, "keywords": [keyword]})
        assert status == 200
        agents = []
        for n in range(count):
            username = f"{group_id}-{n}"
            new_agent = {
                "username": username,
                "name": f"客服{n}",
                "password": password,
                "group_ids": [group_id],
                "capacity": capacity,
            }
            status, body = await admin.call("POST", "/admin/agents", new_agent)
            assert status == 201, body
            agents.append(await self.login(username, password))
        return group_id, keyword, agents

    async def socket(self) -> Socket:
        ws = await self.http.ws_connect(f"{self.stack['ws_url']}?token={self.token}")
        return Socket(ws)


class Socket:
    """A WebSocket that files incoming frames by type, so a test can wait for the one it needs."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                self.frames.append(json.loads(message.data))
                self._arrived.set()

    async def send(self, action: str, **fields: Any) -> None:
        await self.ws.send_str(json.dumps({"action": action, **fields}))

    async def wait_for(self, frame_type: str, count: int = 1, **match: Any) -> list[dict[str, Any]]:
        async def enough() -> list[dict[str, Any]]:
            while True:
                found = [
                    f
                    for f in self.frames
                    if f.get("type") == frame_type and all(f.get(k) == v for k, v in match.items())
                ]
                if len(found) >= count:
                    return found
                self._arrived.clear()
                await self._arrived.wait()

        return await asyncio.wait_for(enough(), FRAME_TIMEOUT)

    async def open_session(self, **fields: Any) -> str:
        """Opens (or resumes) the visitor's session and returns its id."""
        before = len(self.of_type("session"))
        await self.send("openSession", **fields)
        return str((await self.wait_for("session", before + 1))[-1]["session"]["session_id"])

    async def say(self, session_id: str, text: str, client_msg_id: str | None = None) -> dict[str, Any]:
        client_msg_id = client_msg_id or uuid.uuid4().hex
        before = len([f for f in self.frames if f.get("type") == "ack" and f.get("client_msg_id") == client_msg_id])
        await self.send("sendMessage", session_id=session_id, client_msg_id=client_msg_id, kind="text", text=text)
        acks = await self.wait_for("ack", before + 1, client_msg_id=client_msg_id)
        return acks[-1]

    async def wait_for_status(self, status: str) -> dict[str, Any]:
        """The first `session` frame that reports this status."""
        frames = await self.wait_for("session")
        while not any(f["session"]["status"] == status for f in frames):
            frames = await self.wait_for("session", len(frames) + 1)
        return next(f["session"] for f in frames if f["session"]["status"] == status)

    def of_type(self, frame_type: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f.get("type") == frame_type]

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
