"""The FAQ bot's retrieval core: analysis, ranking, the answer/suggest/handover bands and the index artifact."""

import json
import re
from pathlib import Path

import pytest
from shopdesk import text
from shopdesk.answering import (
    BIGRAM_MARK,
    HANDOVER_PHRASES,
    Analyzer,
    Decision,
    Doc,
    Index,
    Thresholds,
    decide,
    wants_person,
)

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
KB = ROOT / "layers/shopdesk/shopdesk/data/demo_kb.json"
EVAL = ROOT / "tests/bench/data/bot_eval.jsonl"
CATEGORIES = {"尺码", "物流", "退换货", "发票", "活动", "支付", "账户", "商品", "售后", "订单"}

DOCS = [
    Doc("kb-return", "怎么退货？", ("退货流程是什么", "不想要了怎么退回去"), "退换货", ("通用",)),
    Doc("kb-refund-time", "退款多久到账？", ("退款什么时候到", "申请退款了还没收到钱"), "退换货"),
    Doc("kb-invoice", "发票怎么开？", ("怎么开发票", "能开发票吗"), "发票"),
    Doc("kb-shipping-insurance", "运费险怎么用？", ("运费险怎么理赔", "有运费险吗"), "退换货"),
    Doc("kb-down-wash", "羽绒服怎么洗？", ("羽绒服能水洗吗", "羽绒服可以干洗吗"), "商品", ("羽绒服",)),
    Doc("kb-ship-when", "什么时候发货？", ("下单后多久发货", "付款后多久发"), "物流"),
]


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer()


@pytest.fixture(scope="module")
def index(analyzer: Analyzer) -> Index:
    return Index.build(DOCS, analyzer)


def words(terms: list[str]) -> list[str]:
    return [term for term in terms if not term.startswith(BIGRAM_MARK)]


# --- analysis -------------------------------------------------------------------------------------


def test_colloquial_words_become_their_canonical_term(analyzer):
    # Given customers' ways of saying refund, courier and size
    # When they are analysed
    terms = words(analyzer.terms("退钱要多久，快递到哪了，尺寸怎么选"))
    # Then the knowledge base's terms come out, and the colloquial ones do not
    assert {"退款", "物流", "尺码"} <= set(terms)
    assert not {"退钱", "快递", "尺寸"} & set(terms)


def test_service_words_from_the_dictionary_stay_whole(analyzer):
    # Given a question using the service vocabulary
    # When it is analysed
    terms = words(analyzer.terms("七天无理由和仅退款，运费险怎么算"))
    # Then each service word is one term
    assert {"七天无理由", "仅退款", "运费险"} <= set(terms)


def test_vocabulary_words_jieba_cuts_through_come_out_whole_without_retraining_the_shared_tokenizer():
    # Given a sentence the small dictionary cuts through 下单 (刚下 / 单想)
    sentence = "刚下单想换个颜色，运费险怎么算"
    shared = text.tokens(sentence)
    assert "下单" not in shared
    # When a new analyzer is made and reads it
    terms = words(Analyzer().terms(sentence))
    # Then 下单 is whole, 运费险 keeps the built-in 运费 inside it, and the shared tokenizer is unchanged
    assert "下单" in terms and "运费险" in terms and "运费" not in terms
    assert text.tokens(sentence) == shared


def test_a_stores_words_are_taught_and_its_synonyms_win_over_the_defaults():
    # Given a product name the dictionary splits, and a store that calls the courier 配送
    assert "云朵棉睡衣" not in Analyzer().terms("云朵棉睡衣起球吗")
    store = Analyzer(words=["云朵棉睡衣"], synonyms={"快递": "配送"})
    # When the store's analyzer reads a question
    terms = words(store.terms("云朵棉睡衣的快递到了吗"))
    # Then the product is one term and the store's synonym replaced the default 物流
    assert "云朵棉睡衣" in terms
    assert "配送" in terms and "物流" not in terms


def test_filler_digits_and_punctuation_leave_no_terms(analyzer):
    # Given a greeting, then an order number around a real word
    # When both are analysed
    greeting = analyzer.terms("亲，请问在吗？")
    with_order = words(analyzer.terms("订单20231105001的发票"))
    # Then the greeting has no terms, and the order number is dropped
    assert greeting == []
    assert with_order == ["订单", "发票"]


def test_bigrams_run_across_word_boundaries(analyzer):
    # Given two words next to each other
    # When analysed
    terms = analyzer.terms("运费险理赔")
    # Then the bigrams cover the joined sequence, seam included, after the words
    assert terms == ["运费险", "理赔", *(BIGRAM_MARK + pair for pair in ("运费", "费险", "险理", "理赔"))]


# --- ranking --------------------------------------------------------------------------------------


def test_the_entry_a_paraphrase_is_about_ranks_first(index, analyzer):
    # Given a paraphrase of the refund-time entry that none of its phrasings spells out
    # When it is searched
    hits = index.search("我申请了退钱，几天能到账呀", analyzer)
    # Then that entry is first, matched through its closest phrasing
    assert hits[0].entry_id == "kb-refund-time"
    assert hits[0].matched == "退款多久到账？"


def test_a_rare_term_outweighs_a_common_one(index, analyzer):
    # Given a query with 退货 (three entries say it) and 运费险 (one entry says it)
    # When it is searched
    hits = index.search("退货运费险", analyzer)
    # Then the entry with the rare term wins
    assert hits[0].entry_id == "kb-shipping-insurance"


def test_each_entry_appears_once_best_first_within_the_limit(index, analyzer):
    # Given a query that matches several phrasings of the invoice entry and other entries too
    # When it is searched with a limit of two
    hits = index.search("怎么开发票，多久到账", analyzer, limit=2)
    # Then no entry repeats, there are two hits, and confidence never rises down the list
    assert len({hit.entry_id for hit in hits}) == len(hits) == 2
    assert [hit.confidence for hit in hits] == sorted((hit.confidence for hit in hits), reverse=True)


def test_confidence_falls_as_the_query_says_more_the_entry_does_not_explain(index, analyzer):
    # Given the same question, plain and padded with words no entry uses
    plain = index.search("羽绒服怎么洗", analyzer)[0]
    padded = index.search("羽绒服怎么洗，宠物狗毛粘上去了", analyzer)[0]
    # Then both find the entry, and the padded one is less sure
    assert plain.entry_id == padded.entry_id == "kb-down-wash"
    assert plain.confidence == 1.0
    assert 0 < padded.confidence < plain.confidence


def test_a_query_with_no_known_term_finds_nothing(index, analyzer):
    # Given a question about something no entry mentions
    # When it is searched
    hits = index.search("今天股市涨没涨", analyzer)
    # Then nothing comes back
    assert hits == []


# --- decisions ------------------------------------------------------------------------------------


def test_confidence_at_the_answer_threshold_answers(index, analyzer):
    # Given a query's top confidence
    top = index.search("退款什么时候能到账", analyzer)[0]
    # When the answer threshold sits exactly on it
    decision = decide("退款什么时候能到账", index, analyzer, Thresholds(answer=top.confidence, suggest=0.1))
    # Then the bot answers with that one entry
    assert decision == Decision("answer", (top,), "confident")


def test_confidence_between_the_thresholds_offers_suggestions(index, analyzer):
    # Given a query that half-matches two entries
    query = "退货发票"
    hits = index.search(query, analyzer, limit=3)
    # When the answer threshold is above the best and the suggest threshold below the second
    thresholds = Thresholds(answer=hits[0].confidence + 0.01, suggest=hits[1].confidence)
    decision = decide(query, index, analyzer, thresholds)
    # Then the bot suggests those it is unsure between, best first, and not the weaker ones
    assert decision.kind == "suggest" and decision.reason == "unsure"
    assert decision.hits == tuple(hit for hit in hits if hit.confidence >= hits[1].confidence)
    assert len(decision.hits) >= 2


def test_confidence_below_the_suggest_threshold_hands_over_with_the_weak_hits(index, analyzer):
    # Given a query whose best match is weak for the thresholds
    query = "羽绒服能不能寄到国外"
    top = index.search(query, analyzer)[0]
    # When the suggest threshold is above it
    decision = decide(query, index, analyzer, Thresholds(answer=0.9, suggest=top.confidence + 0.01))
    # Then the chat goes to a person, who sees what the bot considered
    assert decision.kind == "handover" and decision.reason == "no_match"
    assert decision.hits[0] == top


def test_the_default_thresholds_answer_a_close_paraphrase_and_hand_over_chit_chat(index, analyzer):
    # Given a close paraphrase of an entry, and a request the shop has nothing to do with
    # When the bot decides with its default thresholds
    paraphrase = decide("请问运费险能赔多少钱", index, analyzer)
    chit_chat = decide("帮我写首诗吧", index, analyzer)
    # Then it answers the first and hands the second over
    assert paraphrase.kind == "answer" and paraphrase.hits[0].entry_id == "kb-shipping-insurance"
    assert chit_chat == Decision("handover", (), "no_match")


@pytest.mark.parametrize(
    "query",
    [
        "转人工",
        "我要找真人客服",
        "人工客服在吗",
        "给我转一下人工",
        "别让机器人回了",
        "我要投诉你们",
        "再不退款我就打12315",
    ],
)
def test_asking_for_a_person_or_complaining_hands_over(index, analyzer, query):
    # Given a request for a person, or a complaint
    # When the bot decides
    decision = decide(query, index, analyzer)
    # Then it hands over without trying an answer
    assert wants_person(query)
    assert decision == Decision("handover", (), "asked_for_person")


def test_a_request_for_a_person_wins_over_a_matching_entry(index, analyzer):
    # Given a question the FAQ answers, with a request for a person attached
    assert decide("怎么退货", index, analyzer).kind == "answer"
    # When the customer also asks for a person
    decision = decide("怎么退货，转人工", index, analyzer)
    # Then the person wins
    assert decision.reason == "asked_for_person"


def test_the_word_for_artificial_alone_is_no_request_for_a_person():
    # Given 人工 as a material, and each handover phrase inside chatter
    # When checked for a request for a person
    # Then only the phrases count
    assert not wants_person("人工皮革的包能换吗")
    assert all(wants_person(f"亲，{phrase}！") for phrase in HANDOVER_PHRASES)


@pytest.mark.parametrize("query", ["", "   ", "在吗？", "？？？"])
def test_an_empty_query_hands_over(index, analyzer, query):
    # Given a query with nothing but blanks, greetings or punctuation
    # When the bot decides
    decision = decide(query, index, analyzer)
    # Then a person takes it, and the reason says there was nothing to search
    assert decision == Decision("handover", (), "empty")


# --- artifact -------------------------------------------------------------------------------------


def test_the_artifact_round_trip_gives_the_same_results(index, analyzer):
    # Given the index written to JSON text and read back
    loaded = Index.from_json(json.loads(json.dumps(index.to_json(), ensure_ascii=False)))
    # When the same queries are searched in both
    queries = ["退钱几天到", "发票怎么开", "羽绒服能水洗吗", "退货运费险", "今天天气"]
    # Then the results are the same
    assert len(loaded) == len(index) == len(DOCS)
    for query in queries:
        assert loaded.search(query, analyzer) == index.search(query, analyzer)


def test_an_artifact_of_another_format_is_refused(index):
    # Given an artifact that says it has another format
    data = index.to_json() | {"format": 99}
    # When it is loaded, Then loading fails instead of ranking with misread figures
    with pytest.raises(ValueError, match="format"):
        Index.from_json(data)


# --- shipped data ---------------------------------------------------------------------------------


def test_the_demo_knowledge_base_has_the_promised_shape():
    # Given the demo knowledge base
    rows = json.loads(KB.read_text(encoding="utf-8"))
    # Then it has stable ids in order, known categories and 2–6 similar phrasings per entry
    assert len(rows) >= 110
    assert [row["entry_id"] for row in rows] == [f"kb-{number:03d}" for number in range(1, len(rows) + 1)]
    assert all(row["category"] in CATEGORIES and row["tags"] and row["answer"] for row in rows)
    assert all(2 <= len(row["similar"]) <= 6 for row in rows)


def test_the_evaluation_set_paraphrases_rather_than_copies_the_knowledge_base():
    # Given the knowledge base's phrasings and the evaluation queries, punctuation aside
    def bare(text: str) -> str:
        return re.sub(r"[\W_]+", "", text)

    rows = json.loads(KB.read_text(encoding="utf-8"))
    phrasings = {bare(phrasing) for row in rows for phrasing in (row["question"], *row["similar"])}
    cases = [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines()]
    # Then no query is a phrasing, every expectation exists, and 15–20% need a person
    assert len(cases) >= 210
    assert not [case["query"] for case in cases if bare(case["query"]) in phrasings]
    assert {case["expected"] for case in cases} <= {row["entry_id"] for row in rows} | {"handover"}
    assert 0.15 <= sum(case["expected"] == "handover" for case in cases) / len(cases) <= 0.20
