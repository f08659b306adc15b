"""The FAQ bot's quality on the evaluation set, and its speed on a 2,000-entry knowledge base.

Run: .venv/bin/python -m tests.bench.bot_quality (prints figures; asserts nothing).
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.append(str(ROOT / "layers/shopdesk"))

from shopdesk.answering import BIGRAM_MARK, Analyzer, Decision, Doc, Index, decide  # noqa: E402

KB = ROOT / "layers/shopdesk/shopdesk/data/demo_kb.json"
EVAL = Path(__file__).with_name("data") / "bot_eval.jsonl"
LARGE_KB = 2_000
QUERIES = 1_000


def load_docs() -> list[Doc]:
    rows = json.loads(KB.read_text(encoding="utf-8"))
    return [
        Doc(row["entry_id"], row["question"], tuple(row["similar"]), row["category"], tuple(row["tags"]))
        for row in rows
    ]


def load_eval() -> list[tuple[str, str]]:
    lines = EVAL.read_text(encoding="utf-8").splitlines()
    return [(case["query"], case["expected"]) for case in map(json.loads, lines) if case]


def correct(decision: Decision, expected: str) -> bool:
    if expected == "handover":
        return decision.kind == "handover"
    return decision.kind in ("answer", "suggest") and decision.hits[0].entry_id == expected


def confidently_wrong(decision: Decision, expected: str) -> bool:
    return decision.kind == "answer" and decision.hits[0].entry_id != expected


def quality_rows() -> list[tuple[str, str, str]]:
    analyzer = Analyzer()
    index = Index.build(load_docs(), analyzer)
    cases = load_eval()
    decisions = [(decide(query, index, analyzer), expected) for query, expected in cases]
    kinds = Counter(decision.kind for decision, _ in decisions)
    total = len(decisions)

    def share(count: int) -> str:
        return f"{count / total:.1%} ({count}/{total})"

    return [
        ("FAQ bot top-1 accuracy", share(sum(correct(d, e) for d, e in decisions)), "≥ 85%"),
        ("FAQ bot confidently wrong", share(sum(confidently_wrong(d, e) for d, e in decisions)), "≤ 5%"),
        ("FAQ bot handover rate", share(kinds["handover"]), "reported"),
        ("FAQ bot suggestion rate", share(kinds["suggest"]), "reported"),
    ]


def synthetic_docs(count: int) -> list[Doc]:
    """Demo entries copied with new ids, shuffled words and a product word, so postings grow like a real KB's."""
    rng = random.Random(7)
    base = load_docs()
    products = ["羽绒服", "T恤", "卫衣", "牛仔裤", "连衣裙", "衬衫", "风衣", "毛衣", "运动鞋", "背包", "保温杯"]
    analyzer = Analyzer()

    def vary(phrasing: str) -> str:
        words = [term for term in analyzer.terms(phrasing) if not term.startswith(BIGRAM_MARK)]
        rng.shuffle(words)
        return rng.choice(products) + "".join(words)

    docs = list(base)
    while len(docs) < count:
        doc = base[len(docs) % len(base)]
        docs.append(
            Doc(
                f"syn-{len(docs):04d}",
                vary(doc.question),
                tuple(vary(phrasing) for phrasing in doc.similar),
                doc.category,
                doc.tags,
            )
        )
    return docs


def latency_rows() -> list[tuple[str, str, str]]:
    analyzer = Analyzer()
    docs = synthetic_docs(LARGE_KB)
    started = time.perf_counter()
    index = Index.build(docs, analyzer)
    build_ms = (time.perf_counter() - started) * 1000

    queries = [query for query, _ in load_eval()]
    timings = []
    for number in range(QUERIES):
        query = queries[number % len(queries)]
        started = time.perf_counter()
        decide(query, index, analyzer)
        timings.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(timings, n=100)

    artifact = json.dumps(index.to_json(), ensure_ascii=False, separators=(",", ":"))
    loads = []
    for _ in range(9):  # the median of nine; one load swings with the garbage collector
        started = time.perf_counter()
        Index.from_json(json.loads(artifact))
        loads.append((time.perf_counter() - started) * 1000)

    return [
        (f"FAQ bot query p50 ({len(index)} entries, {QUERIES} queries)", f"{cuts[49]:.2f} ms", "reported"),
        (f"FAQ bot query p99 ({len(index)} entries)", f"{cuts[98]:.2f} ms", "p99 ≤ 10 ms"),
        (f"FAQ bot index build ({len(index)} entries)", f"{build_ms:.0f} ms", "reported"),
        ("FAQ bot artifact size", f"{len(artifact.encode()) / 1024:.0f} KB", "reported"),
        ("FAQ bot artifact load (json.loads + from_json)", f"{statistics.median(loads):.1f} ms", "≤ 50 ms"),
    ]


if __name__ == "__main__":
    for figure, value, target in [*quality_rows(), *latency_rows()]:
        print(f"{figure:<58} {value:>26}   target {target}")
