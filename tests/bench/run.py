"""ShopDesk's performance figures (`make bench`). It prints numbers; it asserts nothing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from tests.bench.backend import provisioned_backend
from tests.bench.counting import DynamoDbRequests
from tests.e2e.wire import local_stack, set_bot_mode

ROOT = Path(__file__).resolve().parents[2]
sys.path.append(str(ROOT / "layers/shopdesk"))
logging.getLogger("werkzeug").setLevel(logging.ERROR)
logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)  # it logs every absent optional path
COUNTER = DynamoDbRequests()
COUNTER.install()

MESSAGES = int(os.environ.get("BENCH_MESSAGES", "1000"))
IMPORT_RUNS = 9  # medians of nine fresh interpreters; single runs swing by ±5%


def row(figure: str, value: str, target: str) -> None:
    print(f"{figure:<58} {value:>26}   target {target}")


# --- requests per message and per assignment (in-process handlers against moto) ------------------


def request_counts() -> None:
    # The SLA machine runs for real: its transitions are counted below.
    backend, resources = provisioned_backend("ChatSocketFunction", step_functions=True)

    from shopdesk.auth import Principal
    from shopdesk.container import Container
    from shopdesk.models import AgentModel
    from shopdesk.sessions import Outgoing

    container = Container()
    groups, per_group = 10, 20
    for g in range(groups):
        container.staff.put_group(
            f"g{g}", f"组{g}", [f"关键词{g}"], ["least_busy", "round_robin", "priority"][g % 3], [], g == 0
        )
    agents = []
    for g in range(groups):
        for n in range(per_group):
            agent_id = f"a{g}-{n}"
            AgentModel(
                f"AGENT#{agent_id}",
                "PROFILE",
                agent_id=agent_id,
                username=agent_id,
                name=agent_id,
                role="agent",
                group_ids=[f"g{g}"],
                capacity=50,
                level=1 + n % 3,
                status="online",
            ).save()
            agents.append(agent_id)
        group = container.groups.get(f"g{g}")
        assert group is not None
        group.update(actions=[type(group).member_ids.set([f"a{g}-{n}" for n in range(per_group)])])

    def session_for(visitor: str) -> Any:
        return container.chat.open(Principal("visitor", visitor, roles=("visitor",)), "web", "", None)

    # Assignments: the visitor's first words route and assign.
    container.store.config()  # the store settings are cached per container; warm them as a warm Lambda would
    per_assignment = []
    sessions = []
    for n in range(50):
        visitor = f"v-bench-{n}"
        session = session_for(visitor)
        with COUNTER.measuring() as seen:
            container.chat.route(session, f"请问关键词{n % groups}怎么样")
        per_assignment.append(sum(seen.values()))
        sessions.append((visitor, session.session_id))
    row(
        "DynamoDB requests per assignment (200 agents, 10 groups)",
        f"mean {statistics.mean(per_assignment):.2f}, max {max(per_assignment)}",
        "<= 3",
    )

    # Customer messages in an assigned session.
    per_message = []
    for n in range(200):
        visitor, session_id = sessions[n % len(sessions)]
        principal = Principal("visitor", visitor, roles=("visitor",))
        with COUNTER.measuring() as seen:
            container.chat.send(principal, Outgoing(session_id, uuid.uuid4().hex, "text", f"第{n}条消息"))
        per_message.append(sum(seen.values()))
    row(
        "DynamoDB requests per customer message (hot path)",
        f"mean {statistics.mean(per_message):.2f}, max {max(per_message)}",
        "<= 3 + counters",
    )
    print("  (3 for the message; a conversation's first words add the inquiry counter, and the cached")
    print("   store settings refresh once a minute: each adds one)")
    bot_turn_requests(container)
    ticket_figures(container, resources)
    backend.stop()


def bot_turn_requests(container: Any) -> None:
    """DynamoDB requests of a customer message the bot answers, past the first turn of the chat."""
    import json

    from shopdesk.auth import Principal
    from shopdesk.kb_files import validate_entry
    from shopdesk.sessions import Outgoing

    admin = Principal("admin", "bench", roles=("admin",))
    entries = json.loads((ROOT / "layers/shopdesk/shopdesk/data/demo_kb.json").read_text(encoding="utf-8"))
    container.knowledge.import_file(admin, [validate_entry(entry) for entry in entries])
    container.bot.update_settings(mode="bot_first")
    questions = ["有没有尺码表", "什么时候发货", "发票怎么开", "七天无理由怎么退", "优惠券怎么用"]
    per_turn = []
    for n in range(20):
        visitor = Principal("visitor", f"v-bot-{n}", roles=("visitor",))
        session = container.chat.open(visitor, "web", "", None)
        container.chat.send(visitor, Outgoing(session.session_id, uuid.uuid4().hex, "text", "你好"))
        with COUNTER.measuring() as seen:
            container.chat.send(visitor, Outgoing(session.session_id, uuid.uuid4().hex, "text", questions[n % 5]))
        per_turn.append(sum(seen.values()))
    container.bot.update_settings(mode="off")
    row(
        "DynamoDB requests per bot turn (message, answer, figures)",
        f"mean {statistics.mean(per_turn):.2f}, max {max(per_turn)}",
        "-",
    )


TRANSITION_PRICE = 0.025 / 1000  # USD per Standard state transition


def ticket_figures(container: Any, resources: Any) -> None:
    """DynamoDB requests per ticket change, and what the SLA machine costs over a ticket's life."""
    from shopdesk import keys
    from shopdesk.auth import Principal
    from shopdesk.models import StoreConfigModel
    from shopdesk.tickets import NewTicket

    agent = Principal("agent", "a0-0", name="a0-0", roles=("agent",))
    tickets = container.tickets
    new = NewTicket(type="after_sales", priority="normal", description="退款没到账", group_id="g0")

    changes: dict[str, list[int]] = {"status": [], "priority": [], "note": []}
    for _ in range(20):
        ticket = tickets.create(agent, new)
        ticket = tickets.assign(agent, ticket.ticket_id, 1, None)
        with COUNTER.measuring() as seen:
            ticket = tickets.set_status(agent, ticket.ticket_id, int(ticket.version), "pending", "")
        changes["status"].append(sum(seen.values()))
        with COUNTER.measuring() as seen:
            ticket = tickets.update(agent, ticket.ticket_id, int(ticket.version), "high", None, None, None)
        changes["priority"].append(sum(seen.values()))
        with COUNTER.measuring() as seen:
            tickets.add_note(agent, ticket.ticket_id, "已联系财务", public=False)
        changes["note"].append(sum(seen.values()))
    for kind, counts in changes.items():
        row(
            f"DynamoDB requests per ticket update ({kind})",
            f"mean {statistics.mean(counts):.2f}, max {max(counts)}",
            "<= 3",
        )

    # Lifecycles, run by moto's Step Functions interpreter with targets of seconds.
    StoreConfigModel(
        keys.STORE_PK,
        keys.CONFIG_SK,
        sla_policies={"normal": {"first_response_seconds": 1, "resolution_seconds": 3, "business_hours": False}},
        escalation_ladder=[
            {"level": 1, "after_seconds": 0, "notify": "leader"},
            {"level": 2, "after_seconds": 1, "notify": "admin", "raise_priority": True},
        ],
    ).save()
    container.store.refresh()
    answered = tickets.create(agent, new)
    tickets.add_note(agent, answered.ticket_id, "您好，已收到", public=True)
    answered = tickets.readable(agent, answered.ticket_id)
    tickets.set_status(agent, answered.ticket_id, int(answered.version), "resolved", "")
    breached = tickets.create(agent, new)
    time.sleep(5)  # both targets and both ladder levels of the breached ticket pass
    sfn = container._client("stepfunctions")
    machine = resources.refs["SlaEscalationStateMachine"]

    def transitions(ticket_id: str) -> int:
        pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=machine)
        runs = [run for page in pages for run in page["executions"] if run["name"].startswith(f"{ticket_id}-v")]
        for _ in range(40):
            if all(sfn.describe_execution(executionArn=r["executionArn"])["status"] != "RUNNING" for r in runs):
                break
            time.sleep(0.25)
        total = 0
        for run in runs:
            history = sfn.get_execution_history(executionArn=run["executionArn"], maxResults=1000)["events"]
            total += sum(1 for event in history if event["type"].endswith("StateEntered"))
        return total

    for label, ticket_id in (
        ("answered and resolved in time", answered.ticket_id),
        ("never answered: both targets, two levels each", breached.ticket_id),
    ):
        count = transitions(ticket_id)
        row(
            f"SLA state transitions per ticket, {label}",
            f"{count} (${count * TRANSITION_PRICE * 1000:.2f} per 1,000 tickets)",
            "printed",
        )


# --- cold imports and jieba (fresh interpreters) --------------------------------------------------

IMPORT_ENV = {
    "STORE_ID": "demo",
    "TABLE_NAME": "t",
    "USER_POOL_ID": "ap-southeast-1_x",
    "USER_POOL_CLIENT_ID": "c",
    "STORE_SECRET_ID": "s",
    "UPLOADS_BUCKET": "b",
    "REMINDER_QUEUE_URL": "q",
    "WS_CALLBACK_URL": "http://127.0.0.1:1",
    "AWS_DEFAULT_REGION": "ap-southeast-1",
    "POWERTOOLS_METRICS_DISABLED": "true",
}


def timed_python(code: str) -> float:
    env = {**os.environ, **IMPORT_ENV, "PYTHONPATH": f"{ROOT}:{ROOT / 'layers/shopdesk'}"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, cwd=ROOT)
    return float(out.stdout.strip().splitlines()[-1])


def median_of(code: str) -> float:
    return statistics.median(timed_python(code) for _ in range(IMPORT_RUNS))


def cold_imports() -> None:
    bare = median_of("import time; t=time.perf_counter(); import boto3; print(time.perf_counter()-t)")
    row("bare `import boto3` (the yardstick)", f"{bare * 1000:.0f} ms", "-")
    functions = sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").exists())
    for name in functions:
        code = (
            "import time, importlib.util, sys; t=time.perf_counter(); "
            f"sys.path.insert(0, '{ROOT / 'functions' / name}'); "
            f"spec=importlib.util.spec_from_file_location('fn', '{ROOT / 'functions' / name / 'app.py'}'); "
            "m=importlib.util.module_from_spec(spec); spec.loader.exec_module(m); print(time.perf_counter()-t)"
        )
        took = median_of(code)
        row(f"cold import of functions/{name}", f"{took * 1000:.0f} ms = {took / bare:.2f}x boto3", "<= 2.5x")
    jieba = median_of(
        "import time; t=time.perf_counter(); from shopdesk import text; text.tokens('我的快递什么时候发货'); "
        "print(time.perf_counter()-t)"
    )
    row("jieba initialisation (import + small dictionary + first cut)", f"{jieba * 1000:.0f} ms", "<= 150 ms")


# --- the bot: answer quality, query latency, cold start and memory -------------------------------


def bot_figures() -> None:
    import json
    import tempfile

    from shopdesk.answering import Analyzer, Index

    from tests.bench.bot_quality import latency_rows, load_docs, quality_rows, synthetic_docs

    for figure, value, target in quality_rows() + latency_rows():
        row(figure, value, target.removeprefix("target ").strip())
    with tempfile.TemporaryDirectory() as folder:
        artifacts = {}
        for label, docs in (("demo, 129 entries", load_docs()), ("2,000 entries", synthetic_docs(2000))):
            path = Path(folder) / f"{len(docs)}.json"
            path.write_text(json.dumps({"index": Index.build(docs, Analyzer()).to_json()}, ensure_ascii=False))
            artifacts[label] = path
        for label, path in artifacts.items():
            took = median_of(BOT_COLD_START.format(artifact=path, handler=ROOT / "functions/chat_socket/app.py"))
            row(f"bot cold start: jieba + index + intents ({label})", f"{took * 1000:.0f} ms", "<= 150 ms")
        peak = timed_python(
            BOT_PEAK_RSS.format(artifact=artifacts["2,000 entries"], handler=ROOT / "functions/chat_socket/app.py")
        )
        row("bot handler peak RSS (2,000 entries, 300 turns' answering)", f"{peak:.0f} MB", "<= 128 MB")


# What the bot's first turn adds to a warm-imported chat handler: its modules, jieba's small dictionary,
# the published index (read here from a file; on AWS from S3), the intent model, one prediction, one answer.
BOT_COLD_START = (
    "import importlib.util, json, sys, time; sys.path.insert(0, '{handler}'.rsplit('/', 1)[0]); "
    "spec = importlib.util.spec_from_file_location('fn', '{handler}'); "
    "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); "
    "t = time.perf_counter(); "
    "from shopdesk import bot; from shopdesk.answering import Analyzer, Index, decide; "
    "from shopdesk.intents import load_shipped; "
    "index = Index.from_json(json.load(open('{artifact}'))['index']); analyzer = Analyzer(); "
    "load_shipped().predict('帮我查下订单'); decide('衣服买大了能换吗', index, analyzer); "
    "print(time.perf_counter()-t)"
)
BOT_PEAK_RSS = (
    "import importlib.util, json, sys; sys.path.insert(0, '{handler}'.rsplit('/', 1)[0]); "
    "spec = importlib.util.spec_from_file_location('fn', '{handler}'); "
    "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); "
    "from shopdesk.answering import Analyzer, Index, decide; from shopdesk.intents import load_shipped; "
    "index = Index.from_json(json.load(open('{artifact}'))['index']); analyzer = Analyzer(); model = load_shipped(); "
    "words = ['衣服买大了能换吗', '什么时候发货', '发票怎么开', '优惠券怎么用', '七天无理由退货', '快递到哪了']; "
    "[(model.predict(w), decide(w, index, analyzer)) for _ in range(50) for w in words]; "
    "print(next(int(l.split()[1]) / 1024 for l in open('/proc/self/status') if l.startswith('VmHWM:')))"
)


# --- delivery latency and RSS on the embedded stack --------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def deliver(stack: dict[str, Any]) -> tuple[list[float], list[float]]:
    import aiohttp

    from tests.e2e.wire import Api

    async with aiohttp.ClientSession() as http:
        api = Api(http, stack)
        _, keyword, (agent,) = await api.group_with_agents(1, password="Bench-pass-2026", capacity=50)
        await agent.call("PUT", "/agent/status", {"status": "online"})
        agent_socket = await agent.socket()
        visitor, _ = await api.visitor()
        socket = await visitor.socket()
        session_id = await socket.open_session()
        await socket.say(session_id, keyword)
        await agent_socket.wait_for("message")
        # Each message is paired with a floor sample taken at the same moment, on a table of the same size.
        floor = Floor(stack, session_id)
        latencies, floor_samples = [], []
        for n in range(MESSAGES):
            expected = len(agent_socket.of_type("message")) + 1
            started = time.perf_counter()
            await socket.send("sendMessage", session_id=session_id, client_msg_id=uuid.uuid4().hex, text=f"消息{n}")
            await agent_socket.wait_for("message", expected)
            latencies.append(time.perf_counter() - started)
            floor_samples.append(floor.sample(n))
        await socket.close()
        await agent_socket.close()
    return latencies, floor_samples


class Floor:
    """The same backend round trips alone: GetItem, TransactWriteItems, BatchGetItem, @connections POST."""

    def __init__(self, stack: dict[str, Any], session_id: str) -> None:
        import boto3

        credentials = {"region_name": stack["region"], "aws_access_key_id": "x", "aws_secret_access_key": "x"}
        self.dynamodb = boto3.client("dynamodb", endpoint_url=stack["backend_url"], **credentials)
        self.connections = boto3.client("apigatewaymanagementapi", endpoint_url=stack["api_url"], **credentials)
        self.table = stack["table_name"]
        self.key = {"pk": {"S": f"SESSION#{session_id}"}, "sk": {"S": "META"}}

    def sample(self, n: int) -> float:
        started = time.perf_counter()
        self.dynamodb.get_item(TableName=self.table, Key=self.key, ConsistentRead=True)
        item = {"pk": {"S": f"FLOOR#{n}"}, "sk": {"S": "M"}, "text": {"S": "x"}}
        guard = {"pk": {"S": f"FLOOR#{n}"}, "sk": {"S": "C"}}
        self.dynamodb.transact_write_items(
            TransactItems=[{"Put": {"TableName": self.table, "Item": i}} for i in (item, guard)]
        )
        self.dynamodb.batch_get_item(RequestItems={self.table: {"Keys": [self.key]}})
        with contextlib.suppress(self.connections.exceptions.GoneException):
            self.connections.post_to_connection(ConnectionId="floor", Data=b"{}")
        return time.perf_counter() - started


def embedded_stack() -> None:
    with local_stack(subprocess.DEVNULL, "--store-id", "bench") as (stack, process):
        raise_rate_limit(stack)
        set_bot_mode(stack, "off")  # delivery is measured customer -> agent
        latencies, floor_samples = asyncio.run(deliver(stack))
        peak = peak_rss_mb(process.pid)
    p50, p99 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000
    f50, f99 = percentile(floor_samples, 0.5) * 1000, percentile(floor_samples, 0.99) * 1000
    row(f"customer -> agent delivery over {MESSAGES} messages", f"p50 {p50:.1f} ms, p99 {p99:.1f} ms", "-")
    row("floor: the same backend round trips alone", f"p50 {f50:.1f} ms, p99 {f99:.1f} ms", "-")
    row("our overhead over the floor (p50)", f"{(p50 - f50) / f50:.2f}x the floor", "<= 1x")
    row(f"peak RSS of the gateway+handlers process ({MESSAGES} messages)", f"{peak:.0f} MB", "<= 128 MB")


def raise_rate_limit(stack: dict[str, Any]) -> None:
    import boto3

    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=stack["backend_url"],
        region_name=stack["region"],
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    dynamodb.update_item(
        TableName=stack["table_name"],
        Key={"pk": {"S": "STORE"}, "sk": {"S": "CONFIG"}},
        UpdateExpression="SET messages_per_minute = :n",
        ExpressionAttributeValues={":n": {"N": "100000"}},
    )


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def main() -> None:
    print("ShopDesk benchmarks\n")
    request_counts()
    cold_imports()
    bot_figures()
    # The refresh against history runs in a process of its own: it needs a moto backend of its own.
    subprocess.run([sys.executable, "-m", "tests.bench.monitoring"], cwd=ROOT, check=True)
    embedded_stack()


if __name__ == "__main__":
    main()
