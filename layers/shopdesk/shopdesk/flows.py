"""Multi-turn bot flows defined as data: a JSON definition walked one customer reply at a time.

The engine is pure: actions (such as looking an order up) run through an injected runner, and the state
between turns is a small JSON-serialisable FlowState that the caller keeps on the session.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

FLOWS_DIR = Path(__file__).with_name("data") / "flows"
BUILTIN_ACTIONS = ("order_lookup",)
# Not a step: as a target it hands the customer to a person.
HANDOVER = "handover"
DEFAULT_MAX_ATTEMPTS = 3
MAX_STEPS = 100
# A run-time guard as well as the definition check, for flows built without parse_flow.
MAX_STEPS_PER_TURN = 20

# (action, slots) → (outcome, data for templates under the action's result name, e.g. {"order": {...}}).
ActionRunner = Callable[[str, Mapping[str, str]], tuple[str, Mapping[str, Any]]]

_FLOW_FIELDS = frozenset({"flow_id", "name", "triggers", "start", "steps"})
# Per step type: (required fields, optional fields).
_STEP_FIELDS: Mapping[str, tuple[frozenset[str], frozenset[str]]] = {
    "ask": (
        frozenset({"type", "prompt", "slot", "next"}),
        frozenset({"pattern", "invalid", "max_attempts", "on_exhausted"}),
    ),
    "action": (frozenset({"type", "action", "next"}), frozenset()),
    "reply": (frozenset({"type", "text", "next"}), frozenset()),
}
# Slot names must be usable as template placeholders.
_SLOT_NAME = re.compile(r"[A-Za-z_]\w*", re.ASCII)
_PLACEHOLDER = re.compile(r"\{(\w+)(?:\.(\w+))?\}")


class FlowDefinitionError(ValueError):
    """A flow definition with problems; `errors` lists every one, so an author fixes them in one pass."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Flow:
    flow_id: str
    name: str
    start: str
    steps: Mapping[str, Mapping[str, Any]]
    intents: tuple[str, ...]
    keywords: tuple[str, ...]


@dataclass
class FlowState:
    """Where a customer is in a flow, between turns.

    `passed` holds the ask steps already entered: a filled slot skips its ask only the first time, so a
    flow that loops back to an ask (e.g. "not found, send it again") asks again instead of looping.
    """

    flow_id: str
    step: str
    slots: dict[str, str]
    attempts: int = 0
    passed: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "flow_id": self.flow_id,
            "step": self.step,
            "slots": dict(self.slots),
            "attempts": self.attempts,
            "passed": list(self.passed),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FlowState:
        flow_id, step, attempts = data.get("flow_id"), data.get("step"), data.get("attempts", 0)
        slots, passed = data.get("slots", {}), data.get("passed", [])
        if not (
            isinstance(flow_id, str)
            and isinstance(step, str)
            and isinstance(attempts, int)
            and not isinstance(attempts, bool)
            and isinstance(slots, Mapping)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in slots.items())
            and isinstance(passed, list)
            and all(isinstance(p, str) for p in passed)
        ):
            raise ValueError("not a stored flow state")
        return cls(flow_id, step, dict(slots), attempts, list(passed))


@dataclass(frozen=True)
class Turn:
    replies: tuple[str, ...]
    # None when the flow finished or handed over.
    state: FlowState | None
    handover: bool = False
    # What actions returned this turn, e.g. the order found, for a rich card.
    data: Mapping[str, Any] = field(default_factory=dict)


def parse_flow(data: Mapping[str, Any], actions: Iterable[str]) -> Flow:
    """A validated Flow; raises FlowDefinitionError listing every problem found."""
    errors = [f"unknown field '{key}'" for key in sorted(set(data) - _FLOW_FIELDS)]
    flow_id, name, start_id = (_required_text(data, key, errors) for key in ("flow_id", "name", "start"))
    intents, keywords = _triggers(data.get("triggers", {}), errors)
    steps = data.get("steps")
    if not isinstance(steps, Mapping) or not steps:
        errors.append("steps: must be a non-empty object")
        raise FlowDefinitionError(errors)
    if len(steps) > MAX_STEPS:
        errors.append(f"steps: at most {MAX_STEPS}")
        raise FlowDefinitionError(errors)
    if start_id and start_id not in steps:
        errors.append(f"start '{start_id}': no such step")
    known_actions = frozenset(actions)
    for step_id, step in steps.items():
        errors += _step_problems(step_id, step, known_actions)
        errors += _target_problems(step_id, step, steps) if isinstance(step, Mapping) else []
    if errors:
        raise FlowDefinitionError(errors)
    # Only a well-formed graph can be walked for these.
    errors = _unreachable(start_id, steps) + _loops_without_ask(steps)
    if errors:
        raise FlowDefinitionError(errors)
    return Flow(flow_id, name, start_id, _frozen(steps), intents, keywords)


def builtin_flows() -> dict[str, Flow]:
    """The flows shipped in shopdesk/data/flows, by flow id."""
    return dict(_load_builtin())


@cache
def _load_builtin() -> tuple[tuple[str, Flow], ...]:
    loaded: dict[str, Flow] = {}
    for path in sorted(FLOWS_DIR.glob("*.json")):
        flow = parse_flow(json.loads(path.read_text(encoding="utf-8")), BUILTIN_ACTIONS)
        if flow.flow_id in loaded:
            raise FlowDefinitionError([f"{path.name}: flow_id '{flow.flow_id}' is already defined"])
        loaded[flow.flow_id] = flow
    return tuple(loaded.items())


def start(flow: Flow, slots: Mapping[str, str], run: ActionRunner) -> Turn:
    """Enters the flow with any slots already known; runs until it needs the customer's input or ends."""
    return _walk(flow, flow.start, dict(slots), [], run)


def advance(flow: Flow, state: FlowState, text: str, run: ActionRunner) -> Turn:
    """The customer's reply to the ask the state waits on. A state that does not fit the flow raises ValueError."""
    step = flow.steps.get(state.step)
    if state.flow_id != flow.flow_id or step is None or step["type"] != "ask":
        raise ValueError(f"flow state at '{state.flow_id}/{state.step}' does not fit flow '{flow.flow_id}'")
    answer = _accept(step, text)
    if answer is not None:
        return _walk(flow, step["next"], {**state.slots, step["slot"]: answer}, list(state.passed), run)
    attempts = state.attempts + 1
    if attempts >= step.get("max_attempts", DEFAULT_MAX_ATTEMPTS):
        return _walk(flow, step.get("on_exhausted", HANDOVER), dict(state.slots), list(state.passed), run)
    again = FlowState(flow.flow_id, state.step, dict(state.slots), attempts, list(state.passed))
    return Turn((_render(step.get("invalid", step["prompt"]), state.slots, {}),), again)


def triggered(flows: Iterable[Flow], intent: str | None, text: str) -> Flow | None:
    """The flow an intent starts, else the first whose keyword the text contains."""
    candidates = list(flows)
    by_intent = next((flow for flow in candidates if intent and intent in flow.intents), None)
    if by_intent is not None:
        return by_intent
    lowered = text.lower()
    return next((flow for flow in candidates if any(word.lower() in lowered for word in flow.keywords)), None)


def _walk(
    flow: Flow,
    target: str | None,
    slots: dict[str, str],
    passed: list[str],
    run: ActionRunner,
) -> Turn:
    replies: list[str] = []
    data: dict[str, Any] = {}
    for _ in range(MAX_STEPS_PER_TURN):
        if target is None:
            return Turn(tuple(replies), None, data=data)
        if target == HANDOVER:
            return Turn(tuple(replies), None, handover=True, data=data)
        step = flow.steps[target]
        if step["type"] == "ask":
            first_visit = target not in passed
            prefilled = _accept(step, slots.get(step["slot"], "")) if first_visit else None
            if first_visit:
                passed.append(target)
            if prefilled is not None:
                slots[step["slot"]] = prefilled
                target = step["next"]
                continue
            replies.append(_render(step["prompt"], slots, data))
            return Turn(tuple(replies), FlowState(flow.flow_id, target, slots, 0, passed), data=data)
        if step["type"] == "action":
            outcome, result = run(step["action"], slots)
            data.update(result)
            # An outcome the flow does not handle leaves the customer with a person rather than stuck.
            target = step["next"].get(outcome, HANDOVER)
        else:
            replies.append(_render(step["text"], slots, data))
            target = step["next"]
    return Turn(tuple(replies), None, handover=True, data=data)


def _accept(step: Mapping[str, Any], text: str) -> str | None:
    """The slot value an answer gives: the pattern's match, or the whole text; None if it gives none."""
    text = text.strip()
    pattern = step.get("pattern")
    if pattern is None:
        return text or None
    found = re.search(pattern, text)
    return (found.group(0) if found else "") or None


def _render(template: str, slots: Mapping[str, str], data: Mapping[str, Any]) -> str:
    """Fills {slot} and {obj.field}; a missing value renders empty, never raises."""

    def value(match: re.Match[str]) -> str:
        name, attr = match.groups()
        if attr is None:
            found = slots[name] if name in slots else data.get(name)
        else:
            holder = data.get(name)
            found = holder.get(attr) if isinstance(holder, Mapping) else None
        return "" if found is None or isinstance(found, Mapping) else str(found)

    return _PLACEHOLDER.sub(value, template)


def _required_text(data: Mapping[str, Any], key: str, errors: list[str]) -> str:
    value = data.get(key)
    if isinstance(value, str) and value.strip():
        return value
    errors.append(f"{key}: must be a non-empty string")
    return ""


def _triggers(triggers: Any, errors: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if not isinstance(triggers, Mapping):
        errors.append("triggers: must be an object")
        return (), ()
    errors += [f"triggers: unknown field '{key}'" for key in sorted(set(triggers) - {"intents", "keywords"})]
    lists: list[tuple[str, ...]] = []
    for key in ("intents", "keywords"):
        words = triggers.get(key, [])
        if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
            errors.append(f"triggers.{key}: must be a list of non-empty strings")
            words = []
        lists.append(tuple(words))
    return lists[0], lists[1]


def _step_problems(step_id: str, step: Any, actions: frozenset[str]) -> list[str]:
    where = f"step '{step_id}'"
    if step_id == HANDOVER:
        return [f"{where}: the id is reserved for handing over to a person"]
    if not isinstance(step, Mapping):
        return [f"{where}: must be an object"]
    kind = step.get("type")
    if not isinstance(kind, str) or kind not in _STEP_FIELDS:
        return [f"{where}: unknown step type {kind!r}"]
    required, optional = _STEP_FIELDS[kind]
    problems = [f"{where}: missing '{key}'" for key in sorted(required - set(step))]
    problems += [f"{where}: unknown field '{key}'" for key in sorted(set(step) - required - optional)]
    for key in ("prompt", "invalid", "text"):
        if key in step and not (isinstance(step[key], str) and step[key].strip()):
            problems.append(f"{where}: '{key}' must be a non-empty string")
    if "slot" in step and not (isinstance(step["slot"], str) and _SLOT_NAME.fullmatch(step["slot"])):
        problems.append(f"{where}: slot must be a name of letters, digits and _")
    if "pattern" in step:
        problems += _pattern_problems(where, step["pattern"])
    attempts = step.get("max_attempts", DEFAULT_MAX_ATTEMPTS)
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        problems.append(f"{where}: max_attempts must be a whole number ≥ 1")
    if kind == "action":
        if not isinstance(step.get("action"), str) or step["action"] not in actions:
            problems.append(f"{where}: unknown action {step.get('action')!r}")
        if not isinstance(step.get("next"), Mapping) or not step.get("next"):
            problems.append(f"{where}: next must map each outcome to a target")
    return problems


def _pattern_problems(where: str, pattern: Any) -> list[str]:
    if not isinstance(pattern, str):
        return [f"{where}: bad pattern: must be a string"]
    try:
        re.compile(pattern)
    except re.error as error:
        return [f"{where}: bad pattern {pattern!r}: {error}"]
    return []


def _target_problems(step_id: str, step: Mapping[str, Any], steps: Mapping[str, Any]) -> list[str]:
    problems = []
    for target in _targets(step):
        if target is not None and not isinstance(target, str):
            problems.append(f"step '{step_id}': a target must be a step id, '{HANDOVER}' or null")
        elif target is not None and target != HANDOVER and target not in steps:
            problems.append(f"step '{step_id}' → '{target}': no such step")
    return problems


def _targets(step: Mapping[str, Any]) -> list[Any]:
    """Every step id, HANDOVER or None a step can lead to."""
    nexts = step.get("next")
    if step.get("type") != "action":
        return [nexts, *([step["on_exhausted"]] if "on_exhausted" in step else [])]
    return list(nexts.values()) if isinstance(nexts, Mapping) else []


def _unreachable(start_id: str, steps: Mapping[str, Mapping[str, Any]]) -> list[str]:
    seen, pending = {start_id}, [start_id]
    while pending:
        for target in _targets(steps[pending.pop()]):
            if target in steps and target not in seen:
                seen.add(target)
                pending.append(target)
    return [f"step '{step_id}': unreachable from start" for step_id in steps if step_id not in seen]


def _loops_without_ask(steps: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Cycles through reply and action steps only: the bot would talk to itself without end."""
    silent = {step_id for step_id, step in steps.items() if step["type"] != "ask"}
    on_path: list[str] = []
    done: set[str] = set()
    loops: list[str] = []

    def visit(step_id: str) -> None:
        on_path.append(step_id)
        for target in _targets(steps[step_id]):
            if target in on_path:
                cycle = [*on_path[on_path.index(target) :], target]
                loops.append("loop without an ask step: " + " → ".join(f"'{s}'" for s in cycle))
            elif target in silent and target not in done:
                visit(target)
        on_path.pop()
        done.add(step_id)

    for step_id in steps:
        if step_id in silent and step_id not in done:
            visit(step_id)
    return loops


def _frozen(value: Any) -> Any:
    """A read-only deep copy, so a validated flow cannot be changed under the engine."""
    if isinstance(value, Mapping):
        return MappingProxyType({key: _frozen(item) for key, item in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    return value
