"""Chinese segmentation with a small shipped dictionary, so a cold start stays fast."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

DICTIONARY = Path(__file__).with_name("data") / "jieba_small.txt"
_lock = threading.Lock()

# Single characters and particles carry no routing signal.
_STOPWORDS = frozenset("的了吗呢吧啊呀哦嗯么和与及或是在我你他她它这那有就也都还要会能请") | {
    "请问",
    "你好",
    "您好",
    "一下",
    "什么",
    "怎么",
    "可以",
    "这个",
    "那个",
}


@lru_cache(maxsize=1)
def _tokenizer():  # type: ignore[no-untyped-def]
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer(dictionary=str(DICTIONARY))
    tokenizer.initialize()
    return tokenizer


def teach(words: Iterable[str]) -> None:
    """Makes sure words such as a group's keywords segment as one token."""
    tokenizer = _tokenizer()
    with _lock:
        for word in words:
            if word and word not in tokenizer.FREQ:
                tokenizer.add_word(word, freq=20000)


def tokens(text: str) -> list[str]:
    """Meaningful tokens of a text, lowercased, without punctuation and stopwords."""
    tokenizer = _tokenizer()
    with _lock:
        pieces = tokenizer.lcut(text.lower())
    return [piece for piece in (p.strip() for p in pieces) if piece and piece.isalnum() and piece not in _STOPWORDS]
