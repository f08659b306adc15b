"""Trains the bot's intent classifier from the labelled examples, and measures it on held-out examples.

.venv/bin/python -m infra.intents train      # all examples → layers/shopdesk/shopdesk/data/intents_model.json
.venv/bin/python -m infra.intents evaluate   # stratified 80/20 split (seed 7): accuracy, per-intent P/R
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

LAYER = Path(__file__).resolve().parents[1] / "layers" / "shopdesk"
if str(LAYER) not in sys.path:
    sys.path.append(str(LAYER))

from shopdesk import intents  # noqa: E402  (importable once the layer is on sys.path, as Lambda mounts it)


def read_examples(path: Path) -> list[intents.Example]:
    with path.open(encoding="utf-8") as lines:
        return intents.parse_examples(lines)


def train(examples_path: Path, model_path: Path) -> None:
    examples = read_examples(examples_path)
    model = intents.Classifier.train(examples).to_json()
    model_path.write_text(json.dumps(model, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    counts = Counter(example.intent for example in examples)
    for intent in intents.INTENTS:
        print(f"{intent:<18} {counts[intent]:>4}")
    print(f"{'total':<18} {len(examples):>4}")
    print(f"wrote {model_path} ({len(model['weights'])} features, {model_path.stat().st_size // 1024} KiB)")


def evaluate(examples_path: Path, test_share: float, seed: int) -> None:
    train_part, test_part = intents.split(read_examples(examples_path), test_share, seed)
    classifier = intents.Classifier.train(train_part)
    result = intents.evaluate(classifier, test_part)
    print(f"trained on {len(train_part)}, tested on {len(test_part)} held-out examples (seed {seed})")
    print(f"{'intent':<18} {'precision':>9} {'recall':>7} {'support':>8}")
    for intent, (precision, recall, support) in result.per_intent.items():
        print(f"{intent:<18} {precision:>9.2f} {recall:>7.2f} {support:>8}")
    print(f"accuracy {result.accuracy:.1%}")
    # The misses are what the next labelled examples should cover.
    for example in test_part:
        predicted = classifier.predict(example.query)
        if predicted.intent != example.intent:
            print(f"  {example.intent} → {predicted.intent} ({predicted.probability:.2f}): {example.query}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("train", "evaluate"))
    parser.add_argument("--examples", type=Path, default=intents.EXAMPLES_PATH)
    parser.add_argument("--model", type=Path, default=intents.MODEL_PATH, help="where train writes the model")
    parser.add_argument("--test-share", type=float, default=0.2, help="evaluate: the held-out share of each intent")
    parser.add_argument("--seed", type=int, default=7, help="evaluate: the split's seed")
    args = parser.parse_args(argv)
    try:
        if args.command == "train":
            train(args.examples, args.model)
        else:
            evaluate(args.examples, args.test_share, args.seed)
    except intents.ExampleError as error:
        for problem in error.errors:
            print(f"{args.examples}:{problem['line']}: {problem['field']}: {problem['message']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
