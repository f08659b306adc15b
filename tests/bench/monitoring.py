"""The supervisor's refresh against history: a store of 50 agents in 8 groups, with 1,000 and with
100,000 historical messages (BENCH_HISTORY), and the counter writes each chat message adds.

Run on its own (`python -m tests.bench.monitoring`): it starts a moto backend of its own.
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import botocore.session

from tests.bench.backend import provisioned_backend
from tests.bench.counting import DynamoDbRequests

ROOT = Path(__file__).resolve().parents[2]
sys.path.append(str(ROOT / "layers/shopdesk"))
logging.getLogger("werkzeug").setLevel(logging.ERROR)
COUNTER = DynamoDbRequests()
COUNTER.install()
ITEMS_READ = [0]  # items DynamoDB returned to the refresh: what a real table would read and bill


COUNTER_WRITES = [0]  # UpdateItems on counter items (STATS#…): what the figures add to a message


def _count_counter_writes(params: dict[str, Any], **_: Any) -> None:
    if str(params.get("Key", {}).get("pk", {}).get("S", "")).startswith("STATS#"):
        COUNTER_WRITES[0] += 1


def _count_items(parsed: dict[str, Any], **_: Any) -> None:
    ITEMS_READ[0] += int(parsed.get("ScannedCount", 0)) + sum(len(v) for v in parsed.get("Responses", {}).values())
    if "Item" in parsed:
        ITEMS_READ[0] += 1


def _install_item_counter() -> None:
    create_client = botocore.session.Session.create_client

    def counting(session: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
        client = create_client(session, *args, **kwargs)
        client.meta.events.register("after-call.dynamodb.*", _count_items)
        client.meta.events.register("before-parameter-build.dynamodb.UpdateItem", _count_counter_writes)
        return client

    botocore.session.Session.create_client = counting  # type: ignore[method-assign]


_install_item_counter()
HISTORY = [int(n) for n in os.environ.get("BENCH_HISTORY", "1000,100000").split(",")]
AGENTS, GROUPS = 50, 8
REFRESHES = 5


def row(figure: str, value: str, target: str) -> None:
    print(f"{figure:<58} {value:>26}   target {target}")


def start() -> Any:
    provisioned_backend("MonitorRefreshFunction")
    from shopdesk.container import Container

    return Container()


def staff_the_store(container: Any) -> None:
    from shopdesk.models import AgentModel

    for g in range(GROUPS):
        container.staff.put_group(f"g{g}", f"组{g}", [f"词{g}"], "least_busy", [], g == 0)
    for n in range(AGENTS):
        group = f"g{n % GROUPS}"
        agent_id = f"a{n}"
        AgentModel(
            f"AGENT#{agent_id}",
            "PROFILE",
            agent_id=agent_id,
            username=agent_id,
            name=agent_id,
            role="agent",
            group_ids=[group],
            capacity=10,
            status="online",
            gsi1pk="AGENTS",
            gsi1sk=f"{agent_id}#{agent_id}",
        ).save()
        members = container.groups.get(group)
        members.update(actions=[type(members).member_ids.set([*(members.member_ids or []), agent_id])])


def add_history(container: Any, messages: int) -> None:
    """Old, ended conversations: what a store accumulates, and what the refresh must never read."""
    from shopdesk.models import MessageModel

    with MessageModel.batch_write() as batch:
        for n in range(messages):
            session_id = f"s-old-{n // 20}"
            batch.save(
                MessageModel(
                    f"SESSION#{session_id}",
                    f"MSG#{n % 20 + 1:010d}",
                    session_id=session_id,
                    seq=n % 20 + 1,
                    sender_role="visitor",
                    sender_id=f"v-old-{n // 20}",
                    kind="text",
                    text="以前的消息",
                    created_at="2025-01-01T00:00:00.000Z",
                )
            )


def refresh_cost(container: Any) -> tuple[float, float, float]:
    seconds, requests, items = [], [], []
    for _ in range(REFRESHES):
        ITEMS_READ[0] = 0
        with COUNTER.measuring() as seen:
            began = time.perf_counter()
            container.monitor.refresh(send_alerts=False)
            seconds.append(time.perf_counter() - began)
        requests.append(sum(seen.values()))
        items.append(ITEMS_READ[0])
    return statistics.median(seconds), statistics.median(requests), statistics.median(items)


def writes_per_message(container: Any) -> tuple[list[int], list[int]]:
    """Counter writes a chat adds: the customer's messages, then the agent's replies."""
    from shopdesk.auth import Principal
    from shopdesk.sessions import Outgoing

    customer_writes, agent_writes = [], []
    for n in range(20):
        visitor = Principal("visitor", f"v-live-{n}", roles=("visitor",))
        session = container.chat.open(visitor, "web", "", None)
        for text in ("你好", "这件有L码吗"):
            COUNTER_WRITES[0] = 0
            container.chat.send(visitor, Outgoing(session.session_id, uuid.uuid4().hex, "text", text))
            customer_writes.append(COUNTER_WRITES[0])
        agent_id = container.sessions.get(session.session_id).agent_id
        agent = Principal("agent", agent_id, roles=("agent",))
        for text in ("有的", "还需要什么吗"):
            COUNTER_WRITES[0] = 0
            container.chat.send(agent, Outgoing(session.session_id, uuid.uuid4().hex, "text", text))
            agent_writes.append(COUNTER_WRITES[0])
    return customer_writes, agent_writes


def main() -> None:
    container = start()
    staff_the_store(container)
    customer_writes, agent_writes = writes_per_message(container)
    had = 0
    costs = {}
    for messages in HISTORY:
        add_history(container, messages - had)
        had = messages
        costs[messages] = refresh_cost(container)
    for messages, (seconds, requests, items) in costs.items():
        row(
            f"monitor refresh, {AGENTS} agents in {GROUPS} groups, {messages:,} old messages",
            f"{requests:.0f} requests, {items:.0f} items, {seconds * 1000:.0f} ms",
            "equal within 10%",
        )
    (small_s, small_r, small_i), (large_s, large_r, large_i) = costs[HISTORY[0]], costs[HISTORY[-1]]
    row(
        f"  history x{HISTORY[-1] // HISTORY[0]:,}: requests, items read",
        f"{large_r / small_r:.2f}x, {large_i / small_i:.2f}x",
        "<= 1.10x",
    )
    # moto answers a GSI Query by walking every item of the table; DynamoDB reads only the key range.
    row(f"  history x{HISTORY[-1] // HISTORY[0]:,}: wall time on moto (see note)", f"{large_s / small_s:.2f}x", "-")
    row(
        "counter writes per customer message (first words: inquiry)",
        f"mean {statistics.mean(customer_writes):.2f}, max {max(customer_writes)}",
        "<= 2",
    )
    row(
        "counter writes per agent reply (reception, response time)",
        f"mean {statistics.mean(agent_writes):.2f}, max {max(agent_writes)}",
        "<= 2",
    )


if __name__ == "__main__":
    main()
