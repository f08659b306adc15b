"""Segmentation with the shipped small dictionary and the service vocabulary."""

import pytest
from shopdesk import text

pytestmark = pytest.mark.unit


def test_service_words_stay_whole():
    # Given a sentence that jieba's defaults cut badly ("请客服" → 请客 / 服)
    words = text.tokens("请客服帮我申请仅退款，运费险怎么算")
    # Then the service vocabulary segments as single tokens
    assert {"客服", "仅退款", "运费险"} <= set(words)
    assert "请客" not in words


def test_stopwords_and_punctuation_are_dropped():
    assert text.tokens("你好，在吗？") == ["在"] or "你好" not in text.tokens("你好，在吗？")
    assert "，" not in text.tokens("物流，快递")


def test_taught_keywords_segment_as_one_token():
    # Given a keyword the dictionary does not know
    assert "七天保价" not in text.tokens("这个有七天保价吗")
    # When it is taught
    text.teach(["七天保价"])
    # Then it comes out whole
    assert "七天保价" in text.tokens("这个有七天保价吗")
