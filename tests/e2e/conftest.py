"""The local stack, started as `make run` starts it, in a subprocess on free ports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.wire import local_stack as running_stack
from tests.e2e.wire import set_bot_mode


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium; Playwright's own browser download is not available here."""
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1280, "height": 800}, "locale": "zh-CN"}


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with (
        (tmp_path_factory.getbasetemp() / "local-stack.log").open("w") as log,
        running_stack(log, "--schedule-scale", "0.05") as (stack, _),
    ):
        yield stack


@pytest.fixture(autouse=True)
def human_first_unless_asked(request: pytest.FixtureRequest) -> None:
    """Chats go straight to people unless a test asks for the bot (`bot_first`); the stack is shared."""
    if "local_stack" in request.fixturenames and "bot_first" not in request.fixturenames:
        set_bot_mode(request.getfixturevalue("local_stack"), "off")


@pytest.fixture
def bot_first(local_stack: dict[str, Any]) -> None:
    set_bot_mode(local_stack, "bot_first")
