"""Builds the small jieba dictionary shipped in the layer (shopdesk/data/jieba_small.txt).

jieba's full dictionary costs ~0.5 s and ~70 MB to load on a cold start; its most frequent words
plus the store-service vocabulary segment customer questions the same way in a few milliseconds.
Run: .venv/bin/python infra/build_dictionary.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import jieba

TOP_WORDS = 30_000
OUT = Path(__file__).resolve().parents[1] / "layers/shopdesk/shopdesk/data/jieba_small.txt"

# Words customer service says that jieba's defaults split or merge wrongly ("请客服" → 请客/服).
SERVICE_WORDS = [
    "客服",
    "人工客服",
    "转人工",
    "售前",
    "售后",
    "物流",
    "快递",
    "发货",
    "退货",
    "退款",
    "换货",
    "仅退款",
    "退货退款",
    "运费险",
    "七天无理由",
    "保价",
    "价保",
    "优惠券",
    "满减",
    "包邮",
    "尺码",
    "尺寸",
    "色差",
    "质量问题",
    "破损",
    "漏发",
    "错发",
    "催发货",
    "物流信息",
    "快递单号",
    "订单号",
    "签收",
    "拒收",
    "到货",
    "发票",
    "开发票",
    "优惠",
    "活动",
    "双十一",
    "预售",
    "定金",
    "尾款",
    "库存",
    "现货",
    "补货",
    "材质",
    "面料",
    "洗涤",
    "保修",
    "维修",
    "安装",
    "发错",
    "少件",
]


def build() -> list[str]:
    source = Path(jieba.__file__).with_name("dict.txt")
    rows = [line.split(" ") for line in source.read_text(encoding="utf-8").splitlines() if line]
    rows.sort(key=lambda row: int(row[1]), reverse=True)
    kept = {row[0]: row for row in rows[:TOP_WORDS]}
    for word in SERVICE_WORDS:
        kept[word] = [word, "20000", "n"]
    return [" ".join(row) for row in sorted(kept.values(), key=lambda row: row[0])]


if __name__ == "__main__":
    lines = build()
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} words to {OUT}", file=sys.stderr)
