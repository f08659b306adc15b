"""The demo store that `make run` starts with: three skill groups, six staff, quick replies.

It goes through the same services the admin API uses, so the demo data is shaped like real data.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shopdesk import keys
from shopdesk.auth import Principal
from shopdesk.clock import iso
from shopdesk.config import Settings
from shopdesk.container import Container
from shopdesk.errors import Conflict
from shopdesk.models import BusinessHours, StoreConfigModel

GROUPS = [
    (
        "presales",
        "售前",
        "least_busy",
        True,
        [
            "尺码",
            "尺寸",
            "优惠",
            "优惠券",
            "库存",
            "现货",
            "价格",
            "材质",
            "面料",
            "颜色",
            "预售",
            "活动",
            "满减",
            "包邮",
        ],
    ),
    (
        "aftersales",
        "售后",
        "priority",
        False,
        [
            "退货",
            "退款",
            "仅退款",
            "换货",
            "质量问题",
            "破损",
            "发票",
            "保修",
            "维修",
            "七天无理由",
            "运费险",
            "少件",
            "错发",
        ],
    ),
    (
        "logistics",
        "物流",
        "round_robin",
        False,
        ["物流", "快递", "发货", "催发货", "签收", "到货", "快递单号", "物流信息", "拒收", "配送"],
    ),
]

# (username, name, role, groups, capacity, level)
STAFF = [
    ("agent1", "小王", "agent", ["presales", "logistics"], 5, 1),
    ("agent2", "小李", "agent", ["presales"], 5, 1),
    ("agent3", "小张", "agent", ["aftersales"], 4, 2),
    ("agent4", "小陈", "agent", ["logistics", "aftersales"], 5, 1),
    ("leader", "刘组长", "leader", ["presales", "aftersales", "logistics"], 3, 3),
    ("admin", "管理员", "admin", [], 1, 1),
]
DEMO_PASSWORD = "Demo-pass-2026"
ALL_DAY = ["00:00", "24:00"]

QUICK_REPLIES = [
    ("欢迎语", "您好，欢迎光临本店，请问有什么可以帮您？", ["你好", "在吗", "您好"]),
    (
        "发货时间",
        "亲，付款后 48 小时内发货，节假日顺延，发货后可在订单详情查看物流。",
        ["发货", "什么时候", "快递"],
    ),
    (
        "退货流程",
        "亲，签收 7 天内支持无理由退货：在订单页申请退货，填写快递单号即可，我们收到后 24 小时内退款。",
        ["退货", "退款", "七天无理由"],
    ),
    ("尺码建议", "亲，可以告诉我您的身高和体重，我帮您推荐合适的尺码。", ["尺码", "尺寸", "大小"]),
    ("物流查询", "亲，我这边帮您查询一下物流，请稍等。", ["物流", "快递", "到哪"]),
]


def seed_demo_store(env: Mapping[str, str]) -> list[dict[str, str]]:
    """Seeds the store and returns the demo logins to print."""
    container = Container(settings=Settings.from_env(env))
    StoreConfigModel(
        keys.STORE_PK,
        keys.CONFIG_SK,
        first_response_seconds=30,
        messages_per_minute=20,
        default_group_id="presales",
        welcome="您好，欢迎光临！请描述您的问题，我们马上为您服务。",
        # The demo store is open around the clock, so a demo works at any hour.
        business_hours=BusinessHours(timezone="Asia/Shanghai", weekly={str(day): ALL_DAY for day in range(7)}),
    ).save()
    for group_id, name, strategy, is_default, words in GROUPS:
        container.staff.put_group(group_id, name, words, strategy, [], is_default)
    logins = []
    agents: dict[str, str] = {}
    for username, name, role, groups, capacity, level in STAFF:
        # A persistent backend (LocalStack) keeps the accounts of an earlier run.
        with suppress(Conflict):
            agents[username] = container.staff.create(
                username, name, DEMO_PASSWORD, role, groups, capacity, level
            ).agent_id
        logins.append({"role": role, "username": username, "password": DEMO_PASSWORD, "name": name})
    for title, text, words in QUICK_REPLIES:
        container.quick_replies.add(None, title, text, words)
    seed_demo_alerts(container)
    if {"agent1", "agent2"} <= agents.keys():
        seed_demo_activity(env, [agents["agent1"], agents["agent2"]])
    seed_demo_bot(container)
    return logins


# The last half hour of a shift, replayed on a clock of its own: (minute, buyer, question, seconds to answer).
DEMO_CHATS = [
    (1, "demo-buyer-1", "这件冲锋衣有L码吗", 18),
    (4, "demo-buyer-2", "羽绒服能机洗吗", 42),
    (9, "demo-buyer-3", "今天下单什么时候发货", 25),
    (13, "demo-buyer-4", "满300减30能和会员折扣一起用吗", 75),
    (19, "demo-buyer-5", "尺码偏大还是偏小", 12),
    (24, "demo-buyer-6", "有没有蓝色的", 33),
]
DEMO_PAYMENTS = [("demo-buyer-1", "SD20261125101", 45900), ("demo-buyer-4", "SD20261125104", 89800)]


def seed_demo_activity(env: Mapping[str, str], agent_ids: list[str]) -> None:
    """Chats answered by two agents over the last half hour, two of them followed by a payment, and a
    refresh every 3 minutes: the monitoring dashboard opens on live-looking figures and a trend."""
    from shopdesk.auth import shop_visitor_id
    from shopdesk.clock import FixedClock
    from shopdesk.orders import parse_order_event
    from shopdesk.sessions import Outgoing

    start = datetime.now(UTC) - timedelta(minutes=30)
    clock = FixedClock(start)
    replay = Container(settings=Settings.from_env(env), clock=clock)
    for agent_id in agent_ids:
        replay.staff.set_status(agent_id, "online")
    refreshed = start
    for minute, buyer, question, answer_after in DEMO_CHATS:
        clock.advance(seconds=(start + timedelta(minutes=minute) - clock.now()).total_seconds())
        visitor = Principal(role="visitor", user_id=shop_visitor_id(buyer), roles=("visitor",))
        session = replay.chat.open(visitor, "web", "https://shop.example/item/1", None, greet=False)
        replay.chat.send(visitor, Outgoing(session.session_id, f"seed-{buyer}", "text", question))
        clock.advance(seconds=answer_after)
        served = replay.chat.session(session.session_id)
        agent = Principal(role="agent", user_id=served.agent_id, roles=("agent",))
        replay.chat.send(agent, Outgoing(session.session_id, f"seed-reply-{buyer}", "text", "亲，这边帮您看一下～"))
        replay.chat.end(agent, session.session_id)
        while clock.now() - refreshed >= timedelta(minutes=3):
            refreshed += timedelta(minutes=3)
            replay.monitor.refresh(send_alerts=False)
    for buyer, order_number, cents in DEMO_PAYMENTS:
        paid = iso(clock.now())
        order = {
            "order_number": order_number,
            "status": "paid",
            "buyer_id": buyer,
            "amount_cents": cents,
            "paid_at": paid,
        }
        replay.orders.apply(
            parse_order_event(
                {"event_id": f"seed-{order_number}", "type": "order.paid", "occurred_at": paid, "order": order}
            )
        )
    for agent_id in agent_ids:
        replay.staff.set_status(agent_id, "offline")
    clock.advance(seconds=(datetime.now(UTC) - clock.now()).total_seconds())
    replay.monitor.refresh(send_alerts=False)


def seed_demo_alerts(container: Container) -> None:
    """Thresholds a supervisor would start from; no recipients, so the demo sends no email or SMS."""
    container.alert_settings.update(
        {"enabled": True, "thresholds": {"avg_response_seconds": 60, "pending_per_agent": 2}},
        {
            "presales": {
                "enabled": True,
                "thresholds": {"pending": 3},
                "agent_thresholds": {"pending": 3, "avg_response_seconds": 60},
            },
            "aftersales": {"enabled": True, "thresholds": {"pending": 3}},
        },
        {group_id for group_id, *_ in GROUPS},
    )


DEMO_KB = Path(__file__).resolve().parents[2] / "layers/shopdesk/shopdesk/data/demo_kb.json"
FIRST_QUESTIONS = [
    ("尺码怎么选？", "kb-001"),
    ("什么时候发货？", "kb-013"),
    ("怎么退货？", "kb-027"),
    ("发票怎么开？", "kb-045"),
    ("查订单", ""),  # no entry: the words start the order-lookup flow
]
# Demo orders the order-lookup flow finds: SD + date + serial, in several states. They carry no buyer,
# so an anonymous demo visitor may look them up; a real order names its buyer, and only that buyer sees it.
DEMO_ORDERS = [
    ("SD20261125001", "shipped", "顺丰速运", "SF1420000001", "快件已到达【上海转运中心】", ["羽绒服 黑色 L"]),
    ("SD20261125002", "paid", "", "", "", ["纯棉T恤 白色 M", "牛仔裤 蓝色 30"]),
    ("SD20261125003", "delivered", "中通快递", "ZT7730000003", "已签收，签收人：本人", ["连衣裙 碎花 S"]),
    ("SD20261125004", "refunding", "", "", "退款申请已提交，等待商家处理", ["运动鞋 白色 42"]),
]


def seed_demo_bot(container: Container) -> None:
    """A bot that answers first, from a knowledge base of the demo shop's common questions."""
    from shopdesk.kb_files import validate_entry
    from shopdesk.orders import parse_order_event

    seeder = Principal(role="admin", user_id="seed", name="演示数据", roles=("admin",))
    rows = [validate_entry(entry) for entry in json.loads(DEMO_KB.read_text(encoding="utf-8"))]
    container.knowledge.import_file(seeder, rows)
    container.first_questions.replace([{"text": text, "entry_id": entry_id} for text, entry_id in FIRST_QUESTIONS])
    container.bot.update_settings(mode="bot_first")
    now = container.clock.now()
    for number, (order_number, status, carrier, tracking, latest, items) in enumerate(DEMO_ORDERS):
        placed = iso(now - timedelta(days=3, hours=number))
        container.orders.apply(
            parse_order_event(
                {
                    "event_id": f"demo-{order_number}",
                    "type": "order.updated",
                    "occurred_at": placed,
                    "order": {
                        "order_number": order_number,
                        "status": status,
                        "amount_cents": 19900 + 1000 * number,
                        "items": items,
                        "carrier": carrier,
                        "tracking_number": tracking,
                        "latest_event": latest,
                        "placed_at": placed,
                        "updated_at": placed,
                    },
                }
            )
        )


def main() -> None:
    """Seeds the store the environment names (as `make run` sets it) and prints the logins as JSON."""
    print(json.dumps(seed_demo_store(os.environ), ensure_ascii=False))


if __name__ == "__main__":
    main()
