"""Intent labelling: example files, the classifier and its JSON artifact, entities, and the shipped model."""

import json
from collections import Counter

import pytest
from shopdesk import intents
from shopdesk.intents import Classifier, Example, ExampleError, extract_entities, parse_examples

pytestmark = pytest.mark.unit

SMALL_SET = [
    Example(query, intent, {})
    for intent, queries in {
        "return_refund": ["我要退货", "怎么申请退款", "退款什么时候到账", "这件衣服能退吗"],
        "invoice": ["能开发票吗", "发票抬头怎么写", "电子发票在哪下载", "我要开票报销"],
        "greeting": ["你好", "在吗", "有人在吗", "您好在不在"],
    }.items()
    for query in queries
]


def shipped_examples() -> list[Example]:
    with intents.EXAMPLES_PATH.open(encoding="utf-8") as lines:
        return parse_examples(lines)


def line(query: object = "能开发票吗", intent: object = "invoice", **extra: object) -> str:
    return json.dumps({"query": query, "intent": intent, **extra}, ensure_ascii=False)


# --- the classifier ---------------------------------------------------------------------------------------


def test_a_model_trained_on_a_few_examples_predicts_new_phrasings_of_them():
    # Given a model trained on four examples of each of three intents
    classifier = Classifier.train(SMALL_SET)
    # When it sees phrasings it was not trained on
    predicted = [classifier.predict(query).intent for query in ("退款多久能到账", "发票怎么开", "有人吗")]
    # Then each goes to its intent, and the labels are in the usual intent order
    assert predicted == ["return_refund", "invoice", "greeting"]
    assert classifier.labels == ("return_refund", "invoice", "greeting")


def test_one_example_per_intent_is_enough_to_use_its_words():
    # Given a store's own tiny example set, one query per intent
    examples = [Example("双十一有什么优惠", "activity_inquiry", {}), Example("你好", "greeting", {})]
    # When a model is trained on it and asked a close query
    prediction = Classifier.train(examples).predict("双十一优惠")
    # Then words seen only once still decide
    assert prediction.intent == "activity_inquiry" and prediction.probability > 0.8


def test_a_prediction_ranks_every_label_best_first_with_probabilities_summing_to_one():
    # Given a trained model
    classifier = Classifier.train(SMALL_SET)
    # When it predicts
    prediction = classifier.predict("退货退款")
    # Then every label is ranked once, best first, and the probabilities form a distribution
    assert sorted(label for label, _ in prediction.ranked) == sorted(classifier.labels)
    assert [p for _, p in prediction.ranked] == sorted((p for _, p in prediction.ranked), reverse=True)
    assert prediction.ranked[0] == (prediction.intent, prediction.probability)
    assert sum(p for _, p in prediction.ranked) == pytest.approx(1.0)
    assert prediction.probability > 0.5


def test_a_model_round_trips_through_its_json_artifact():
    # Given a trained model
    classifier = Classifier.train(SMALL_SET)
    # When it is written as JSON text and read back
    restored = Classifier.from_json(json.loads(json.dumps(classifier.to_json(), ensure_ascii=False)))
    # Then it is the same model, and predicts exactly as the original
    assert restored.to_json() == classifier.to_json()
    assert restored.labels == classifier.labels
    for query in ("退款多久能到账", "发票怎么开", "在不在", "天气"):
        assert restored.predict(query) == classifier.predict(query)


@pytest.mark.parametrize(
    "damage",
    [
        lambda model: model.update(version=2),
        lambda model: model["bias"].pop(),
        lambda model: model["weights"].update({"退": [0.5]}),
        lambda model: model.pop("labels"),
        lambda model: model.update(weights=[]),
    ],
    ids=["other version", "short bias", "short weight row", "no labels", "weights not an object"],
)
def test_a_damaged_artifact_is_refused(damage):
    # Given a model's JSON with one part damaged
    model = Classifier.train(SMALL_SET).to_json()
    damage(model)
    # When it is loaded, Then it is refused as not a model
    with pytest.raises(ValueError, match="not an intents model"):
        Classifier.from_json(model)


def test_training_needs_examples():
    # Given no examples, When a model is trained, Then it is refused
    with pytest.raises(ValueError, match="no examples"):
        Classifier.train([])


def test_features_fold_numbers_mark_entities_and_keep_stopword_characters():
    # Given queries with an order number, a height, and only stopwords as tokens
    order, height, greeting = (intents.features(q) for q in ("订单SD20261125001到哪了", "身高170穿什么码", "在吗"))
    # Then the order number becomes a marker (not its digits), the height a number, and 在吗 still shows
    assert "<order_number>" in order and not any("2026" in feature for feature in order)
    assert "<number>" in height and "170" not in height
    assert {"在", "吗"} <= set(greeting)


# --- example files --------------------------------------------------------------------------------------


def test_valid_lines_parse_skipping_blank_ones_and_entities_may_be_left_out():
    # Given two valid lines, one without entities, around a blank line
    lines = [line(entities={"order_number": "SD20261125001"}), "  ", line("你好", "greeting")]
    # When they are parsed
    examples = parse_examples(lines)
    # Then both come back, in order
    assert examples == [
        Example("能开发票吗", "invoice", {"order_number": "SD20261125001"}),
        Example("你好", "greeting", {}),
    ]


def test_an_unknown_intent_label_is_reported_with_its_line_number():
    # Given a file whose third line has a label that is not an intent
    lines = [line(), line("在吗", "greeting"), line("退货", "refund")]
    # When it is parsed
    with pytest.raises(ExampleError) as raised:
        parse_examples(lines)
    # Then the error names line 3 and its intent field
    [problem] = raised.value.errors
    assert (problem["line"], problem["field"]) == (3, "intent")
    assert "'refund'" in problem["message"]
    assert "line 3 intent" in str(raised.value)


def test_labels_outside_the_intents_are_accepted_when_known():
    # Given a label the caller declares, When the line is parsed, Then it is an example
    assert parse_examples([line("退货", "refund")], known=["refund"]) == [Example("退货", "refund", {})]


def test_every_bad_line_is_reported_and_no_example_comes_back():
    # Given one good line among lines with every kind of problem
    lines = [
        line(),
        '{"query": "能开发票吗", "intent": ',
        line(""),
        line("退" * 501, "return_refund"),
        line(entities={"product": 3}),
        line(entities=["卫衣"]),
        '["能开发票吗", "invoice"]',
        json.dumps({"query": "你好"}),
    ]
    # When they are parsed
    with pytest.raises(ExampleError) as raised:
        parse_examples(lines)
    # Then each bad line is listed with the field at fault, and nothing is returned
    assert [(problem["line"], problem["field"]) for problem in raised.value.errors] == [
        (2, "json"),
        (3, "query"),
        (4, "query"),
        (5, "entities"),
        (6, "entities"),
        (7, "json"),
        (8, "intent"),
    ]
    assert "501 characters" in raised.value.errors[2]["message"]


# --- entities ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的订单SD20261125001到哪了", "SD20261125001"),
        ("订单号 sd20261125001", "SD20261125001"),
        ("订单ＳＤ２０２６１１２５００１", "SD20261125001"),
        ("单号202611250012345帮忙查下", "202611250012345"),
        ("订单123456789012", "123456789012"),
        ("12345678901234567890", "12345678901234567890"),
    ],
)
def test_order_numbers_are_found_in_their_forms(text, expected):
    # Given an order number written as SD + 11 digits (any case or width) or 12–20 bare digits
    # When entities are extracted, Then it comes back in canonical form
    assert extract_entities(text) == {"order_number": expected}


@pytest.mark.parametrize(
    "text",
    ["我的手机号13812345678", "SD202611250011 多一位", "123456789012345678901", "顺丰单号SF1234567890123", "订单2026"],
)
def test_numbers_that_are_not_order_numbers_are_left_alone(text):
    # Given a phone number, an SD code of the wrong length, a 21-digit number, or a courier waybill
    # When entities are extracted, Then no order number is found
    assert "order_number" not in extract_entities(text)


def test_activities_and_products_come_back_as_listed():
    # Given queries naming activities and products in different spellings
    # Then each comes back as its list spells it, and the longest name wins
    assert extract_entities("双11买的t恤能退吗") == {"activity_name": "双11", "product": "T恤"}
    assert extract_entities("双十一羽绒马甲有优惠吗") == {"activity_name": "双十一", "product": "羽绒马甲"}
    assert extract_entities("618有活动吗") == {"activity_name": "618"}
    assert extract_entities("会员日的卫衣打几折") == {"activity_name": "会员日", "product": "卫衣"}


def test_an_activity_is_not_read_inside_a_longer_number():
    # Given 618 with digits after it, before it, and inside an order number
    # When entities are extracted, Then no activity is found
    assert extract_entities("编号6180") == {}
    assert extract_entities("编号2618号") == {}
    assert extract_entities("订单SD61812345678") == {"order_number": "SD61812345678"}


def test_a_store_catalog_replaces_the_default_names():
    # Given a catalog of its own and an activity list of its own
    found = extract_entities("周末大促的卫衣和保温杯", products=["保温杯"], activities=["周末大促"])
    # Then only those names are found
    assert found == {"activity_name": "周末大促", "product": "保温杯"}
    assert extract_entities("卫衣", products=[]) == {}
    # And the longest name wins whatever the catalog's order
    assert extract_entities("卫衣套装几号发货", products=["卫衣", "卫衣套装"]) == {"product": "卫衣套装"}


# --- split and evaluation --------------------------------------------------------------------------------


def test_the_split_holds_out_a_share_of_every_intent_the_same_way_each_time():
    # Given the shipped examples
    examples = shipped_examples()
    # When they are split twice with the default seed, and once with another
    train, test = intents.split(examples)
    again = intents.split(examples)
    other_train, other_test = intents.split(examples, seed=8)
    # Then the parts are disjoint and complete, each intent gives about a fifth, and only the seed changes it
    assert sorted(map(repr, train + test)) == sorted(map(repr, examples))
    assert not {e.query for e in train} & {e.query for e in test}
    totals, held_out = Counter(e.intent for e in examples), Counter(e.intent for e in test)
    assert all(held_out[intent] == round(totals[intent] * 0.2) for intent in totals)
    assert again == (train, test)
    assert other_test != test and len(other_test) == len(test)


def test_split_refuses_a_share_outside_zero_and_one():
    with pytest.raises(ValueError, match="test_share"):
        intents.split(SMALL_SET, test_share=1.0)


def test_evaluation_counts_precision_recall_and_support_per_intent():
    # Given a model and examples where one invoice question is labelled as a refund
    classifier = Classifier.train(SMALL_SET)
    examples = [
        Example("退款多久能到账", "return_refund", {}),
        Example("我想退货", "return_refund", {}),
        Example("发票怎么开", "invoice", {}),
        Example("电子发票下载", "return_refund", {}),
    ]
    # When it is evaluated
    result = intents.evaluate(classifier, examples)
    # Then the mislabelled example costs refund recall and invoice precision
    assert result.accuracy == 0.75
    assert result.per_intent == {"return_refund": (1.0, 2 / 3, 3), "invoice": (0.5, 1.0, 1)}


# --- the shipped data and model ------------------------------------------------------------------------


def test_the_shipped_examples_cover_every_intent_once_per_query_with_consistent_entities():
    # Given the shipped examples file
    examples = shipped_examples()
    counts = Counter(example.intent for example in examples)
    # Then it holds enough of every intent, no query twice, and entities as the extractor finds them
    assert len(examples) >= 400
    assert set(counts) == set(intents.INTENTS)
    assert all(25 <= count <= 40 for count in counts.values()), counts
    assert len({example.query for example in examples}) == len(examples)
    assert [e.entities for e in examples] == [extract_entities(e.query) for e in examples]


def test_the_shipped_model_is_the_one_trained_from_the_shipped_examples():
    # Given the shipped examples, When a model is trained on all of them
    trained = Classifier.train(shipped_examples())
    # Then it is exactly the shipped artifact (training is deterministic and the artifact is current)
    assert trained.to_json() == json.loads(intents.MODEL_PATH.read_text(encoding="utf-8"))


def test_the_shipped_examples_reach_the_held_out_accuracy_target():
    # Given the default stratified split of the shipped examples
    train, test = intents.split(shipped_examples())
    # When a model trained on the train part is evaluated on the rest
    result = intents.evaluate(Classifier.train(train), test)
    # Then it meets the 85% target
    assert result.accuracy >= 0.85


@pytest.mark.parametrize(
    ("query", "intent"),
    [
        ("帮我查一下订单SD20261130008的物流", "order_status"),
        ("这双运动鞋我想退款", "return_refund"),
        ("卫衣大了，想换小一码", "exchange"),
        ("身高170体重130斤穿哪个码", "size_advice"),
        ("付款了什么时候发货啊", "shipping_time"),
        ("麻烦给我开一张电子发票", "invoice"),
        ("双十一满减活动怎么参加", "activity_inquiry"),
        ("花呗支付一直失败", "payment"),
        ("这件毛衣是什么材质的，能机洗吗", "product_info"),
        ("你们客服态度太差了，我要投诉", "complaint"),
        ("请帮我转人工客服", "human_handover"),
        ("你好，在吗？", "greeting"),
        ("今天北京天气怎么样", "other"),
    ],
)
def test_the_shipped_model_gets_obvious_queries_right(query, intent):
    # Given a plain query of one intent that is not among the shipped examples
    assert query not in {example.query for example in shipped_examples()}
    # When the shipped model predicts it, Then it picks that intent
    assert intents.load_shipped().predict(query).intent == intent
