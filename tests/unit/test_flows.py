"""The flow engine: flows as data, walked one customer reply at a time with an injected action runner."""

import copy
import json
from collections.abc import Mapping
from typing import Any

import pytest
from shopdesk.flows import (
    BUILTIN_ACTIONS,
    MAX_STEPS_PER_TURN,
    Flow,
    FlowDefinitionError,
    FlowState,
    advance,
    builtin_flows,
    parse_flow,
    start,
    triggered,
)

pytestmark = pytest.mark.unit

ORDER = {"status_text": "已发货", "shipping_text": "顺丰 SF1234567890：已到达上海转运中心"}
PROMPT = "请发送您的订单号（以 SD 开头，例如 SD20261125001）。"
INVALID = "订单号格式不对，应为 SD 加 11 位数字，请再发一次。"


class Shop:
    """An action runner over a fixed set of orders, remembering what it was asked."""

    def __init__(self, orders: Mapping[str, Mapping[str, str]]) -> None:
        self.orders = orders
        self.calls: list[tuple[str, dict[str, str]]] = []

    def __call__(self, action: str, slots: Mapping[str, str]) -> tuple[str, Mapping[str, Any]]:
        self.calls.append((action, dict(slots)))
        order = self.orders.get(slots["order_number"])
        return ("found", {"order": order}) if order else ("missing", {})


@pytest.fixture
def flow() -> Flow:
    return builtin_flows()["order_lookup"]


@pytest.fixture
def shop() -> Shop:
    return Shop({"SD20261125001": ORDER})


def definition() -> dict[str, Any]:
    return copy.deepcopy(
        {
            "flow_id": "f",
            "name": "F",
            "start": "ask",
            "steps": {
                "ask": {"type": "ask", "prompt": "号码？", "slot": "order_number", "next": "lookup"},
                "lookup": {"type": "action", "action": "order_lookup", "next": {"found": "done", "missing": "ask"}},
                "done": {"type": "reply", "text": "好的", "next": None},
            },
        }
    )


def problems(data: Mapping[str, Any]) -> list[str]:
    with pytest.raises(FlowDefinitionError) as raised:
        parse_flow(data, BUILTIN_ACTIONS)
    return raised.value.errors


def test_start_asks_for_the_order_number(flow: Flow, shop: Shop):
    # When the order-lookup flow starts with nothing known
    turn = start(flow, {}, shop)
    # Then the bot asks for the number and waits at that step, having looked nothing up
    assert turn.replies == (PROMPT,)
    assert turn.state == FlowState("order_lookup", "ask_order", {}, 0, ["ask_order"])
    assert not turn.handover and shop.calls == []


def test_an_invalid_answer_is_asked_again_then_a_valid_one_shows_the_order(flow: Flow, shop: Shop):
    # Given the flow waiting for an order number
    waiting = start(flow, {}, shop).state
    assert waiting is not None
    # When the customer sends something that is not one
    retry = advance(flow, waiting, "我的订单", shop)
    # Then they are told the format, and one attempt is used
    assert retry.replies == (INVALID,)
    assert retry.state is not None and retry.state.attempts == 1
    # When they then send a valid number, with surrounding spaces
    done = advance(flow, retry.state, "  SD20261125001 ", shop)
    # Then it is looked up and the order shown from the action's data, and the flow ends
    assert shop.calls == [("order_lookup", {"order_number": "SD20261125001"})]
    assert done.replies == ("订单 SD20261125001：已发货。顺丰 SF1234567890：已到达上海转运中心",)
    assert done.state is None and not done.handover
    assert done.data == {"order": ORDER}


def test_exhausted_attempts_hand_over_to_a_person(flow: Flow, shop: Shop):
    # Given the flow waiting for an order number
    state = start(flow, {}, shop).state
    # When the customer answers wrongly as often as the step allows (3)
    turns = []
    for _ in range(3):
        assert state is not None
        turns.append(advance(flow, state, "不知道", shop))
        state = turns[-1].state
    # Then the first two ask again and the third hands over, with the flow over
    assert [turn.handover for turn in turns] == [False, False, True]
    assert turns[-1].state is None and turns[-1].replies == ()


def test_a_prefilled_order_number_skips_the_question(flow: Flow, shop: Shop):
    # When the flow starts with the number already taken from the customer's first message
    turn = start(flow, {"order_number": "SD20261125001"}, shop)
    # Then the order is looked up at once, without asking
    assert PROMPT not in turn.replies
    assert turn.replies == ("订单 SD20261125001：已发货。顺丰 SF1234567890：已到达上海转运中心",)
    assert turn.state is None


def test_a_prefilled_value_the_pattern_refuses_is_asked_for(flow: Flow, shop: Shop):
    # When entity extraction filled the slot with something that is not an order number
    turn = start(flow, {"order_number": "12345"}, shop)
    # Then the bot asks rather than looking it up
    assert turn.replies == (PROMPT,) and shop.calls == []


def test_a_missing_order_says_so_and_asks_again_without_looping(flow: Flow, shop: Shop):
    # When a prefilled number is not found
    turn = start(flow, {"order_number": "SD20990101999"}, shop)
    # Then the bot says so and asks again, although the slot is still filled
    assert turn.replies == ("没有查到订单 SD20990101999，请核对后重新发送。", PROMPT)
    assert turn.state is not None and turn.state.step == "ask_order"
    assert len(shop.calls) == 1
    # When the customer then sends another unknown number
    again = advance(flow, turn.state, "SD20990101998", shop)
    # Then the same happens once more, still waiting for input
    assert again.replies == ("没有查到订单 SD20990101998，请核对后重新发送。", PROMPT)
    assert again.state is not None and len(shop.calls) == 2


def test_looping_back_asks_the_earlier_question_again():
    # Given a flow asking two things, which goes back to the first when the lookup misses
    data = definition()
    data["steps"]["ask"]["next"] = "ask_reason"
    data["steps"]["ask_reason"] = {"type": "ask", "prompt": "原因？", "slot": "reason", "next": "lookup"}
    data["steps"]["lookup"]["next"]["missing"] = "sorry"
    data["steps"]["sorry"] = {"type": "reply", "text": "没找到", "next": "ask"}
    flow = parse_flow(data, BUILTIN_ACTIONS)
    shop = Shop({})
    first = start(flow, {}, shop)
    assert first.state is not None
    second = advance(flow, first.state, "SD1", shop)
    assert second.state is not None
    # When the second answer leads to a miss
    turn = advance(flow, second.state, "太大了", shop)
    # Then the first question is asked again, not skipped on to the second
    assert turn.replies == ("没找到", "号码？")
    assert turn.state is not None and turn.state.step == "ask"


def test_templates_render_missing_values_empty():
    # Given a reply naming a slot, a data field, and values that do not exist
    data = definition()
    data["steps"]["done"]["text"] = "{order_number}|{order.status_text}|{order.nope}|{nope}|{nope.x}|{order}"
    flow = parse_flow(data, BUILTIN_ACTIONS)
    # When it renders
    turn = start(flow, {"order_number": "SD20261125001"}, Shop({"SD20261125001": ORDER}))
    # Then known values fill in and the rest are empty, without raising
    assert turn.replies == ("SD20261125001|已发货||||",)


def test_an_outcome_the_flow_does_not_handle_hands_over():
    # Given an action runner answering with an outcome the flow has no branch for
    flow = parse_flow(definition(), BUILTIN_ACTIONS)
    # When the action runs
    turn = start(flow, {"order_number": "SD20261125001"}, lambda action, slots: ("timeout", {}))
    # Then the customer goes to a person
    assert turn.handover and turn.state is None


def test_a_cycle_in_a_hand_built_flow_is_cut_off_and_handed_over():
    # Given a flow built without validation, whose reply leads to itself
    flow = Flow("f", "F", "r", {"r": {"type": "reply", "text": "又来了", "next": "r"}}, (), ())
    # When it starts
    turn = start(flow, {}, Shop({}))
    # Then it stops after the per-turn bound and hands over
    assert turn.replies == ("又来了",) * MAX_STEPS_PER_TURN
    assert turn.handover


def test_flow_state_survives_a_json_round_trip(flow: Flow, shop: Shop):
    # Given a state mid-flow, after one wrong answer
    state = start(flow, {}, shop).state
    assert state is not None
    state = advance(flow, state, "x", shop).state
    assert state is not None
    # When it is stored as JSON and read back
    restored = FlowState.from_dict(json.loads(json.dumps(state.to_dict())))
    # Then it is the same state
    assert restored == state


@pytest.mark.parametrize(
    "stored",
    [
        {"step": "ask_order", "slots": {}},
        {"flow_id": "order_lookup", "step": "ask_order", "slots": {"n": 1}},
        {"flow_id": "order_lookup", "step": "ask_order", "slots": {}, "attempts": "1"},
    ],
)
def test_a_malformed_stored_state_is_refused(stored: dict[str, Any]):
    # Given a stored state missing its flow, with a non-text slot, or with text attempts
    # When it is read back, Then it is refused rather than half-trusted
    with pytest.raises(ValueError):
        FlowState.from_dict(stored)


def test_a_state_from_another_flow_is_refused(flow: Flow, shop: Shop):
    # Given a state that points at a step the flow does not have
    state = FlowState("order_lookup", "gone", {})
    # When the customer replies, Then advancing raises instead of guessing
    with pytest.raises(ValueError, match="does not fit"):
        advance(flow, state, "SD20261125001", shop)


def test_flows_trigger_by_intent_before_keywords(flow: Flow):
    # Given the order flow and another flow whose keyword is "订单"
    other = parse_flow({**definition(), "triggers": {"intents": ["refund"], "keywords": ["订单"]}}, BUILTIN_ACTIONS)
    # When the intent is order_status, Then the order flow starts though the other's keyword is in the text
    assert triggered([other, flow], "order_status", "订单") is flow
    # When no flow has the intent, Then the first flow with a keyword in the text starts, or none
    assert triggered([flow, other], None, "帮我查物流") is flow
    assert triggered([flow, other], "greeting", "我的订单呢") is other
    assert triggered([flow, other], None, "你好") is None


def test_a_missing_step_is_listed_with_every_other_problem():
    # Given a flow whose action is unknown and leads to a step that does not exist, and whose start is wrong
    data = definition()
    data["start"] = "x"
    data["steps"]["lookup"]["next"]["found"] = "show"
    data["steps"]["lookup"]["action"] = "refund"
    # When it is parsed, Then every problem is listed at once
    assert problems(data) == [
        "start 'x': no such step",
        "step 'lookup': unknown action 'refund'",
        "step 'lookup' → 'show': no such step",
    ]


def test_step_problems_are_listed_together():
    # Given an unknown action, a bad pattern, an unknown step type and a misspelt field
    data = definition()
    data["steps"]["lookup"]["action"] = "refund"
    data["steps"]["ask"]["pattern"] = "SD(\\d"
    data["steps"]["done"]["nxt"] = None
    data["steps"]["extra"] = {"type": "jump"}
    # Then each is named
    errors = problems(data)
    assert "step 'lookup': unknown action 'refund'" in errors
    assert any(error.startswith("step 'ask': bad pattern") for error in errors)
    assert "step 'done': unknown field 'nxt'" in errors
    assert "step 'extra': unknown step type 'jump'" in errors
    assert len(errors) == 4


def test_a_loop_without_an_ask_is_refused():
    # Given a reply that leads back to the action before it, so the bot would talk to itself forever
    data = definition()
    data["steps"]["done"]["next"] = "lookup"
    # Then the loop is named
    assert problems(data) == ["loop without an ask step: 'lookup' → 'done' → 'lookup'"]


def test_a_loop_through_an_ask_is_allowed():
    # Given a flow whose missing branch leads back to its ask, which waits for the customer
    data = definition()
    # When it is parsed, Then it is accepted
    assert parse_flow(data, BUILTIN_ACTIONS).steps["lookup"]["next"]["missing"] == "ask"


def test_handover_is_a_target_not_a_step_id():
    # Given a reply leading to "handover", which no step defines
    data = definition()
    data["steps"]["done"]["next"] = "handover"
    # Then it is accepted as the hand-over target
    assert parse_flow(data, BUILTIN_ACTIONS).steps["done"]["next"] == "handover"
    # When a step takes that id, Then it is refused, since targets would be ambiguous
    data["steps"]["handover"] = {"type": "reply", "text": "转人工", "next": None}
    assert problems(data) == ["step 'handover': the id is reserved for handing over to a person"]


def test_an_unreachable_step_is_reported():
    # Given a step no other step leads to, likely a misspelt target elsewhere
    data = definition()
    data["steps"]["orphan"] = {"type": "reply", "text": "?", "next": None}
    # Then parsing names it
    assert problems(data) == ["step 'orphan': unreachable from start"]


def test_a_parsed_flow_cannot_be_changed_afterwards():
    # Given a flow parsed from a dict the caller keeps
    data = definition()
    flow = parse_flow(data, BUILTIN_ACTIONS)
    # When the caller changes the dict
    data["steps"]["lookup"]["next"]["found"] = "nowhere"
    # Then the flow still holds what was validated
    assert flow.steps["lookup"]["next"]["found"] == "done"
