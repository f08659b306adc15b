"""Reads the SAM template into a typed model of what the local stack has to emulate.

It understands CloudFormation's short tags (``!Ref``, ``!Sub``, ``!GetAtt`` ...), evaluates the
intrinsic functions the template uses, and extracts the functions, REST routes, WebSocket routes,
schedules, and SQS and SNS event sources, so nothing about the deployed shape is repeated by hand.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

SERVERLESS_FUNCTION = "AWS::Serverless::Function"
SERVERLESS_API = "AWS::Serverless::Api"
SERVERLESS_LAYER = "AWS::Serverless::LayerVersion"
DYNAMODB_TABLE = "AWS::DynamoDB::Table"
USER_POOL = "AWS::Cognito::UserPool"
USER_POOL_CLIENT = "AWS::Cognito::UserPoolClient"
USER_POOL_GROUP = "AWS::Cognito::UserPoolGroup"
SQS_QUEUE = "AWS::SQS::Queue"
SNS_TOPIC = "AWS::SNS::Topic"
SNS_SUBSCRIPTION = "AWS::SNS::Subscription"
S3_BUCKET = "AWS::S3::Bucket"
SECRET = "AWS::SecretsManager::Secret"
WS_API = "AWS::ApiGatewayV2::Api"
WS_ROUTE = "AWS::ApiGatewayV2::Route"
WS_INTEGRATION = "AWS::ApiGatewayV2::Integration"
WS_STAGE = "AWS::ApiGatewayV2::Stage"
WS_AUTHORIZER = "AWS::ApiGatewayV2::Authorizer"

# SAM's implicit API, created for Api events that name no RestApiId.
IMPLICIT_API_ID = "ServerlessRestApi"
IMPLICIT_API_STAGE = "Prod"


class TemplateError(ValueError):
    """The template uses something the local stack cannot read or emulate."""


# --------------------------------------------------------------------------- YAML


class _CfnLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML has no type stubs installed
    """A SafeLoader that turns CloudFormation short tags into their long (JSON) forms."""


# CloudFormation reads unquoted dates as strings, not as YAML timestamps.
_CfnLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

_FN_TAGS = (
    "And", "Base64", "Cidr", "Equals", "FindInMap", "GetAZs", "If", "ImportValue", "Join",
    "Length", "Not", "Or", "Select", "Split", "Sub", "ToJsonString", "Transform",
)  # fmt: skip


def _node_value(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    raise TemplateError(f"unexpected YAML node {node!r}")


def _long_form(name: str) -> Callable[[yaml.SafeLoader, yaml.Node], dict[str, Any]]:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        return {name: _node_value(loader, node)}

    return construct


def _get_att(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    value = _node_value(loader, node)
    if isinstance(value, str):
        # Only the first dot separates: attribute names such as Endpoint.Address contain dots.
        logical_id, dot, attribute = value.partition(".")
        if not dot:
            raise TemplateError(f"!GetAtt {value!r} must be written Resource.Attribute")
        value = [logical_id, attribute]
    return {"Fn::GetAtt": value}


for _tag in _FN_TAGS:
    _CfnLoader.add_constructor(f"!{_tag}", _long_form(f"Fn::{_tag}"))
_CfnLoader.add_constructor("!Ref", _long_form("Ref"))
_CfnLoader.add_constructor("!Condition", _long_form("Condition"))
_CfnLoader.add_constructor("!GetAtt", _get_att)


def load_yaml(text: str) -> Any:
    """Parse CloudFormation YAML, short tags included, into plain Python values."""
    return yaml.load(text, Loader=_CfnLoader)


# --------------------------------------------------------------------------- intrinsics


class _NoValue:
    """What ``Ref: AWS::NoValue`` evaluates to: the enclosing property disappears."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


def pseudo_parameters(region: str, account_id: str, stack_name: str = "shopdesk-local") -> dict[str, str]:
    """The ``AWS::*`` pseudo parameters for a region and account."""
    if region.startswith("cn-"):
        partition, suffix = "aws-cn", "amazonaws.com.cn"
    elif region.startswith("us-gov-"):
        partition, suffix = "aws-us-gov", "amazonaws.com"
    else:
        partition, suffix = "aws", "amazonaws.com"
    return {
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::Partition": partition,
        "AWS::URLSuffix": suffix,
        "AWS::StackName": stack_name,
        "AWS::StackId": (
            f"arn:{partition}:cloudformation:{region}:{account_id}:stack/{stack_name}/"
            "00000000-0000-0000-0000-000000000000"
        ),
    }


def resolve(
    value: Any,
    refs: Mapping[str, Any],
    attrs: Mapping[tuple[str, str], Any],
    params: Mapping[str, Any],
    conditions: Mapping[str, bool] | None = None,
) -> Any:
    """Evaluate the intrinsic functions in ``value``.

    ``params`` holds the template parameters and the ``AWS::*`` pseudo parameters, ``refs`` what
    ``Ref`` returns for each resource, ``attrs`` what ``Fn::GetAtt`` returns, and ``conditions``
    the template's evaluated conditions (for ``Fn::If``).
    """
    return _Resolver(refs, attrs, params, conditions or {}).value(value)


def _text(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise TemplateError(f"{where}: expected a string, got {value!r}")


_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class _Resolver:
    def __init__(
        self,
        refs: Mapping[str, Any],
        attrs: Mapping[tuple[str, str], Any],
        params: Mapping[str, Any],
        conditions: Mapping[str, bool],
    ) -> None:
        self._refs = refs
        self._attrs = attrs
        self._params = params
        self._conditions = conditions
        self._functions: dict[str, Callable[[Any], Any]] = {
            "Fn::Sub": self._sub,
            "Fn::GetAtt": self._get_att_form,
            "Fn::Join": self._join,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::If": self._if,
            "Fn::Equals": self._equals,
            "Fn::And": lambda arg: all(self._boolean(item) for item in arg),
            "Fn::Or": lambda arg: any(self._boolean(item) for item in arg),
            "Fn::Not": lambda arg: not self._boolean(arg[0]),
            "Fn::Base64": self._base64,
            "Fn::ToJsonString": lambda arg: json.dumps(self.value(arg), separators=(",", ":")),
            "Fn::Length": lambda arg: len(self.value(arg)),
        }

    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            items = [self.value(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if isinstance(node, dict):
            if len(node) == 1:
                ((key, arg),) = node.items()
                if key == "Ref":
                    return self.ref(arg)
                if key == "Condition" and isinstance(arg, str):
                    return self.condition(arg)
                if key.startswith("Fn::"):
                    function = self._functions.get(key)
                    if function is None:
                        raise TemplateError(f"{key} is not supported by the local stack")
                    return function(arg)
            resolved = {key: self.value(item) for key, item in node.items()}
            return {key: item for key, item in resolved.items() if item is not NO_VALUE}
        return node

    def ref(self, name: Any) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if not isinstance(name, str):
            raise TemplateError(f"Ref needs a name, got {name!r}")
        if name in self._params:
            return self._params[name]
        if name in self._refs:
            return self._refs[name]
        raise TemplateError(f"Ref {name!r}: no such parameter or resource")

    def condition(self, name: str) -> bool:
        try:
            return bool(self._conditions[name])
        except KeyError:
            raise TemplateError(f"Condition {name!r} is not defined") from None

    def get_att(self, logical_id: str, attribute: Any) -> Any:
        attribute = _text(self.value(attribute), f"Fn::GetAtt {logical_id}")
        try:
            return self._attrs[(logical_id, attribute)]
        except KeyError:
            raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute}: no such resource attribute") from None

    def _base64(self, arg: Any) -> str:
        return base64.b64encode(_text(self.value(arg), "Fn::Base64").encode()).decode()

    def _get_att_form(self, arg: Any) -> Any:
        if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)):
            raise TemplateError(f"Fn::GetAtt needs [Resource, Attribute], got {arg!r}")
        return self.get_att(arg[0], arg[1])

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            if len(arg) != 2 or not isinstance(arg[0], str) or not isinstance(arg[1], dict):
                raise TemplateError(f"Fn::Sub needs a string or [string, variables], got {arg!r}")
            text, variables = arg[0], {key: self.value(item) for key, item in arg[1].items()}
        elif isinstance(arg, str):
            text, variables = arg, {}
        else:
            raise TemplateError(f"Fn::Sub needs a string, got {arg!r}")

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return _text(variables[name], f"Fn::Sub ${{{name}}}")
            if name in self._params or name in self._refs:
                return _text(self.ref(name), f"Fn::Sub ${{{name}}}")
            logical_id, dot, attribute = name.partition(".")
            if dot:
                return _text(self.get_att(logical_id, attribute), f"Fn::Sub ${{{name}}}")
            raise TemplateError(f"Fn::Sub ${{{name}}}: no such parameter or resource")

        return _SUB_VARIABLE.sub(replace, text)

    def _join(self, arg: Any) -> str:
        if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)):
            raise TemplateError(f"Fn::Join needs [delimiter, list], got {arg!r}")
        items = self.value(arg[1])
        if not isinstance(items, list):
            raise TemplateError(f"Fn::Join needs a list, got {items!r}")
        return arg[0].join(_text(item, "Fn::Join") for item in items)

    def _select(self, arg: Any) -> Any:
        index, items = self.value(arg[0]), self.value(arg[1])
        if not isinstance(items, list):
            raise TemplateError(f"Fn::Select needs a list, got {items!r}")
        return items[int(index)]

    def _split(self, arg: Any) -> list[str]:
        delimiter, source = arg[0], self.value(arg[1])
        return _text(source, "Fn::Split").split(delimiter)

    def _if(self, arg: Any) -> Any:
        if not (isinstance(arg, list) and len(arg) == 3 and isinstance(arg[0], str)):
            raise TemplateError(f"Fn::If needs [condition, then, else], got {arg!r}")
        return self.value(arg[1] if self.condition(arg[0]) else arg[2])

    def _equals(self, arg: Any) -> bool:
        left, right = (self.value(item) for item in arg)
        return bool(left == right)

    def _boolean(self, node: Any) -> bool:
        value = self.value(node)
        if not isinstance(value, bool):
            raise TemplateError(f"expected a condition, got {value!r}")
        return value


class _Symbolic[V](Mapping[Any, V]):
    """Answers every lookup with a readable name, to see what an expression points at."""

    def __init__(self, render: Callable[[Any], V]) -> None:
        self._render = render

    def __getitem__(self, key: Any) -> V:
        return self._render(key)

    def __contains__(self, key: object) -> bool:
        return True

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _symbolic(value: Any) -> Any:
    """Resolve ``value`` to names: ``!Ref X`` becomes ``X`` and ``!GetAtt X.Arn`` becomes ``X.Arn``."""
    return resolve(
        value,
        _Symbolic(str),
        _Symbolic(lambda key: f"{key[0]}.{key[1]}"),
        {},
        _Symbolic(lambda _key: True),
    )


def _referenced(value: Any) -> Iterator[tuple[str, str | None]]:
    """Every (logical id or parameter, attribute or None) that ``value`` refers to."""
    if isinstance(value, list):
        for item in value:
            yield from _referenced(item)
    elif isinstance(value, dict):
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref" and isinstance(arg, str):
                yield arg, None
                return
            if key == "Fn::GetAtt" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str):
                yield arg[0], arg[1] if isinstance(arg[1], str) else None
                return
            if key == "Fn::Sub":
                text = arg[0] if isinstance(arg, list) else arg
                local = set(arg[1]) if isinstance(arg, list) and isinstance(arg[1], dict) else set()
                if isinstance(text, str):
                    for name in _SUB_VARIABLE.findall(text):
                        if name.startswith("!") or name in local:
                            continue
                        logical_id, dot, attribute = name.partition(".")
                        yield logical_id, attribute if dot else None
                if isinstance(arg, list) and len(arg) == 2:
                    yield from _referenced(arg[1])
                return
        for item in value.values():
            yield from _referenced(item)


# --------------------------------------------------------------------------- schedules


@dataclass(frozen=True)
class RateExpression:
    """``rate(N unit)``: fires every ``seconds`` seconds."""

    seconds: int

    def next_after(self, moment: float) -> float:
        return moment + self.seconds


_MONTHS = {
    name: number
    for number, name in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}
_WEEKDAYS = {name: number for number, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)}


@dataclass(frozen=True)
class CronExpression:
    """EventBridge ``cron(minutes hours day-of-month month day-of-week year)``, in UTC.

    ``None`` for a day field means ``?`` (the other day field decides); ``None`` for years means any.
    Day-of-week numbers follow EventBridge: 1 is Sunday, 7 is Saturday.
    """

    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int] | None
    months: frozenset[int]
    days_of_week: frozenset[int] | None
    years: frozenset[int] | None

    def next_after(self, moment: float) -> float:
        """The first matching minute strictly after ``moment`` (epoch seconds)."""
        current = datetime.fromtimestamp(moment, UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        last_year = max(self.years) if self.years else current.year + 5
        while current.year <= last_year:
            if self.years is not None and current.year not in self.years:
                current = datetime(current.year + 1, 1, 1, tzinfo=UTC)
            elif current.month not in self.months:
                year, month = divmod(current.year * 12 + current.month, 12)
                current = datetime(year, month + 1, 1, tzinfo=UTC)
            elif not self._day_matches(current):
                current = (current + timedelta(days=1)).replace(hour=0, minute=0)
            elif current.hour not in self.hours:
                current = (current + timedelta(hours=1)).replace(minute=0)
            elif current.minute not in self.minutes:
                current += timedelta(minutes=1)
            else:
                return current.timestamp()
        raise TemplateError(f"{self} never fires")

    def _day_matches(self, moment: datetime) -> bool:
        if self.days_of_month is not None and moment.day not in self.days_of_month:
            return False
        # Python counts Monday as 0; EventBridge counts Sunday as 1.
        weekday = (moment.weekday() + 1) % 7 + 1
        return self.days_of_week is None or weekday in self.days_of_week


ScheduleExpression = RateExpression | CronExpression

_RATE = re.compile(r"rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def _cron_field(text: str, low: int, high: int, names: Mapping[str, int] | None = None) -> frozenset[int]:
    def number(token: str) -> int:
        token = token.upper()
        if names and token in names:
            return names[token]
        if any(marker in token for marker in ("L", "W", "#")):
            raise TemplateError(f"cron field {text!r}: L, W and # are not supported by the local stack")
        if not token.isdigit():
            raise TemplateError(f"cron field {text!r}: {token!r} is not a number")
        return int(token)

    values: set[int] = set()
    for part in text.split(","):
        base, slash, step_text = part.partition("/")
        step = number(step_text) if slash else 1
        if step < 1:
            raise TemplateError(f"cron field {text!r}: the step must be at least 1")
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = number(first), number(last)
        else:
            start = number(base)
            end = high if slash else start
        if not low <= start <= end <= high:
            raise TemplateError(f"cron field {text!r}: values must lie in {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def parse_schedule_expression(text: str) -> ScheduleExpression:
    """Parse ``rate(...)`` or ``cron(...)`` as EventBridge does, rejecting what it would reject."""
    text = text.strip()
    rate = _RATE.fullmatch(text)
    if rate:
        count, unit = int(rate.group(1)), rate.group(2)
        if count < 1:
            raise TemplateError(f"{text}: the rate must be at least 1")
        if (count == 1) != (not unit.endswith("s")):
            raise TemplateError(f"{text}: EventBridge wants the singular unit for 1 and the plural otherwise")
        return RateExpression(count * _UNIT_SECONDS[unit.rstrip("s")])
    if text.startswith("cron(") and text.endswith(")"):
        fields = text[5:-1].split()
        if len(fields) != 6:
            raise TemplateError(f"{text}: cron needs 6 fields (minutes hours day-of-month month day-of-week year)")
        minutes, hours, day_of_month, month, day_of_week, year = fields
        if (day_of_month == "?") == (day_of_week == "?"):
            raise TemplateError(f"{text}: exactly one of day-of-month and day-of-week must be '?'")
        return CronExpression(
            minutes=_cron_field(minutes, 0, 59),
            hours=_cron_field(hours, 0, 23),
            days_of_month=None if day_of_month == "?" else _cron_field(day_of_month, 1, 31),
            months=_cron_field(month, 1, 12, _MONTHS),
            days_of_week=None if day_of_week == "?" else _cron_field(day_of_week, 1, 7, _WEEKDAYS),
            years=None if year in ("*", "?") else _cron_field(year, 1970, 2199),
        )
    raise TemplateError(f"{text!r} is neither rate(...) nor cron(...)")


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class ResourceSpec:
    logical_id: str
    type: str
    properties: dict[str, Any]
    depends_on: tuple[str, ...] = ()
    condition: str | None = None


@dataclass(frozen=True)
class EventSpec:
    name: str
    type: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class FunctionSpec:
    """An ``AWS::Serverless::Function`` with Globals applied; values may still hold intrinsics."""

    logical_id: str
    code_uri: str | None
    handler: str | None
    runtime: str | None
    memory_size: int
    timeout: int
    environment: dict[str, Any]
    events: dict[str, EventSpec]
    layers: tuple[Any, ...]
    function_name: Any = None


@dataclass(frozen=True)
class RestRoute:
    """One ``Type: Api`` event; ``method`` is upper-case, and ``ANY`` matches every method."""

    api: str
    path: str
    method: str
    function: str
    event: str


@dataclass(frozen=True)
class CorsConfig:
    """A REST API's ``Cors`` with SAM's single quotes removed; ``None`` means not configured."""

    allow_origin: str
    allow_headers: str | None = None
    allow_methods: str | None = None
    max_age: str | None = None
    allow_credentials: bool = False


@dataclass(frozen=True)
class RestApiSpec:
    logical_id: str
    stage_name: Any
    cors: CorsConfig | None
    routes: tuple[RestRoute, ...]


@dataclass(frozen=True)
class WebSocketAuthorizer:
    """A REQUEST Lambda authorizer; ``identity_sources`` are ``("header" | "querystring", name)``."""

    logical_id: str
    function: str
    identity_sources: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class WebSocketRoute:
    route_key: str
    function: str
    logical_id: str
    authorizer: WebSocketAuthorizer | None = None


@dataclass(frozen=True)
class WebSocketApiSpec:
    """A WEBSOCKET ``AWS::ApiGatewayV2::Api`` with its routes resolved to function logical ids."""

    logical_id: str
    route_selection_expression: str
    stage_name: Any
    routes: tuple[WebSocketRoute, ...]

    @property
    def selection_path(self) -> tuple[str, ...]:
        """The JSON path of ``$request.body.a.b`` as ``("a", "b")``."""
        return tuple(self.route_selection_expression.removeprefix("$request.body.").split("."))

    def route(self, route_key: str) -> WebSocketRoute | None:
        return next((route for route in self.routes if route.route_key == route_key), None)


@dataclass(frozen=True)
class ScheduleSpec:
    function: str
    event: str
    text: str
    expression: ScheduleExpression
    enabled: bool
    input: str | None
    name: Any = None


@dataclass(frozen=True)
class SqsSourceSpec:
    function: str
    event: str
    queue: str
    batch_size: int
    function_response_types: tuple[str, ...]
    enabled: bool

    @property
    def report_batch_item_failures(self) -> bool:
        return "ReportBatchItemFailures" in self.function_response_types


@dataclass(frozen=True)
class SnsSourceSpec:
    """A ``Type: SNS`` event: ``topic`` is the logical id of the ``AWS::SNS::Topic`` it subscribes to.

    ``filter_policy`` may still hold intrinsics; it is resolved when the subscription is made.
    """

    function: str
    event: str
    topic: str
    filter_policy: dict[str, Any] | None
    enabled: bool
    filter_policy_scope: str | None = None


@dataclass(frozen=True)
class UnsupportedEvent:
    """A function event the local stack does not drive (for example DynamoDB streams)."""

    function: str
    event: str
    type: str


@dataclass(frozen=True)
class Template:
    root: Path
    document: dict[str, Any]
    parameters: dict[str, dict[str, Any]]
    resources: dict[str, ResourceSpec]
    functions: dict[str, FunctionSpec]
    rest_apis: dict[str, RestApiSpec]
    websocket_apis: dict[str, WebSocketApiSpec]
    schedules: tuple[ScheduleSpec, ...]
    sqs_sources: tuple[SqsSourceSpec, ...]
    sns_sources: tuple[SnsSourceSpec, ...]
    unsupported_events: tuple[UnsupportedEvent, ...]

    def of_type(self, resource_type: str) -> list[ResourceSpec]:
        return [resource for resource in self.resources.values() if resource.type == resource_type]

    @property
    def tables(self) -> list[ResourceSpec]:
        return self.of_type(DYNAMODB_TABLE)

    @property
    def user_pools(self) -> list[ResourceSpec]:
        return self.of_type(USER_POOL)

    @property
    def user_pool_clients(self) -> list[ResourceSpec]:
        return self.of_type(USER_POOL_CLIENT)

    @property
    def user_pool_groups(self) -> list[ResourceSpec]:
        return self.of_type(USER_POOL_GROUP)

    @property
    def queues(self) -> list[ResourceSpec]:
        return self.of_type(SQS_QUEUE)

    @property
    def topics(self) -> list[ResourceSpec]:
        return self.of_type(SNS_TOPIC)

    @property
    def buckets(self) -> list[ResourceSpec]:
        return self.of_type(S3_BUCKET)

    @property
    def secrets(self) -> list[ResourceSpec]:
        return self.of_type(SECRET)

    @property
    def rest_api(self) -> RestApiSpec | None:
        """The REST API the gateway serves (one port serves one API)."""
        return _single(self.rest_apis, "REST API")

    @property
    def websocket_api(self) -> WebSocketApiSpec | None:
        return _single(self.websocket_apis, "WebSocket API")

    def parameter_values(self, given: Mapping[str, Any], *, region: str, account_id: str) -> dict[str, Any]:
        """Template parameters (given, else Default), validated, plus the pseudo parameters."""
        unknown = set(given) - set(self.parameters)
        if unknown:
            raise TemplateError(f"unknown template parameters: {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for name, spec in self.parameters.items():
            value = given.get(name, spec.get("Default"))
            if value is None:
                raise TemplateError(f"parameter {name} has no value and no Default")
            value = str(value)
            pattern = spec.get("AllowedPattern")
            if pattern is not None and not re.fullmatch(pattern, value):
                raise TemplateError(f"parameter {name}={value!r} does not match {pattern}")
            allowed = spec.get("AllowedValues")
            if allowed is not None and value not in [str(item) for item in allowed]:
                raise TemplateError(f"parameter {name}={value!r} is not one of {allowed}")
            is_list = spec.get("Type") == "CommaDelimitedList"
            values[name] = [item.strip() for item in value.split(",")] if is_list else value
        values.update(pseudo_parameters(region, account_id))
        return values

    def conditions(self, params: Mapping[str, Any]) -> dict[str, bool]:
        definitions = self.document.get("Conditions") or {}
        lazy = _LazyConditions(definitions, params)
        return {name: lazy[name] for name in definitions}

    def dependency_order(self) -> list[str]:
        """Resource logical ids, each after every resource it refers to or DependsOn."""
        dependencies = {
            logical_id: {
                target
                for target, _ in _referenced(resource.properties)
                if target in self.resources and target != logical_id
            }
            | set(resource.depends_on)
            for logical_id, resource in self.resources.items()
        }
        ordered: list[str] = []
        placed: set[str] = set()
        while len(ordered) < len(dependencies):
            ready = [lid for lid, deps in dependencies.items() if lid not in placed and deps <= placed]
            if not ready:
                stuck = sorted(set(dependencies) - placed)
                raise TemplateError(f"circular references between {', '.join(stuck)}")
            ordered.extend(ready)
            placed.update(ready)
        return ordered

    def attribute_references(self) -> set[tuple[str, str]]:
        """Every (logical id, attribute) the template reads with GetAtt or ``${X.Attr}``."""
        return {
            (target, attribute)
            for target, attribute in _referenced(self.document)
            if attribute is not None and target in self.resources
        }

    def layer_dirs(self, function_id: str) -> list[Path]:
        """Source folders of the function's layers that are defined in this template."""
        dirs: list[Path] = []
        for layer in self.functions[function_id].layers:
            target = _symbolic(layer)
            resource = self.resources.get(target) if isinstance(target, str) else None
            if resource is not None and resource.type == SERVERLESS_LAYER:
                content = resource.properties.get("ContentUri")
                if isinstance(content, str):
                    dirs.append((self.root / content).resolve())
        return dirs


def _single[T](items: Mapping[str, T], what: str) -> T | None:
    if len(items) > 1:
        raise TemplateError(f"the local stack serves one {what}; the template has {', '.join(items)}")
    return next(iter(items.values()), None)


class _LazyConditions(Mapping[str, bool]):
    """Evaluates conditions on demand, since one may refer to another."""

    def __init__(self, definitions: Mapping[str, Any], params: Mapping[str, Any]) -> None:
        self._definitions = definitions
        self._params = params
        self._values: dict[str, bool] = {}
        self._evaluating: set[str] = set()

    def __getitem__(self, name: str) -> bool:
        if name in self._values:
            return self._values[name]
        if name not in self._definitions:
            raise KeyError(name)
        if name in self._evaluating:
            raise TemplateError(f"condition {name} refers to itself")
        self._evaluating.add(name)
        value = resolve(self._definitions[name], {}, {}, self._params, self)
        if not isinstance(value, bool):
            raise TemplateError(f"condition {name} is not a boolean: {value!r}")
        self._values[name] = value
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._definitions)

    def __len__(self) -> int:
        return len(self._definitions)


# --------------------------------------------------------------------------- parsing


def load_template(path: str | Path) -> Template:
    """Read a SAM template file; CodeUri and ContentUri are relative to its folder."""
    path = Path(path)
    return parse_template(load_yaml(path.read_text(encoding="utf-8")), path.parent)


def parse_template(document: Mapping[str, Any], root: str | Path) -> Template:
    document = dict(document)
    raw_resources = document.get("Resources")
    if not isinstance(raw_resources, dict) or not raw_resources:
        raise TemplateError("the template has no Resources")
    resources: dict[str, ResourceSpec] = {}
    for logical_id, body in raw_resources.items():
        if not isinstance(body, dict) or not isinstance(body.get("Type"), str):
            raise TemplateError(f"resource {logical_id} has no Type")
        depends_on = body.get("DependsOn") or ()
        resources[logical_id] = ResourceSpec(
            logical_id=logical_id,
            type=body["Type"],
            properties=dict(body.get("Properties") or {}),
            depends_on=(depends_on,) if isinstance(depends_on, str) else tuple(depends_on),
            condition=body.get("Condition"),
        )
    globals_ = document.get("Globals") or {}
    functions = {
        resource.logical_id: _function(resource, globals_.get("Function") or {})
        for resource in resources.values()
        if resource.type == SERVERLESS_FUNCTION
    }
    events = _events(functions, resources)
    return Template(
        root=Path(root).resolve(),
        document=document,
        parameters=dict(document.get("Parameters") or {}),
        resources=resources,
        functions=functions,
        rest_apis=_rest_apis(resources, events.routes, globals_.get("Api") or {}),
        websocket_apis=_websocket_apis(resources, functions),
        schedules=tuple(events.schedules),
        sqs_sources=tuple(events.sqs_sources),
        sns_sources=tuple(events.sns_sources),
        unsupported_events=tuple(events.unsupported),
    )


def _is_intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)).startswith(("Ref", "Fn::"))


def _merge_globals(defaults: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    """SAM's Globals rule: maps merge, lists concatenate (Globals first), anything else overrides."""
    merged = dict(defaults)
    for key, value in own.items():
        base = merged.get(key)
        if isinstance(base, dict) and isinstance(value, dict) and not (_is_intrinsic(base) or _is_intrinsic(value)):
            merged[key] = _merge_globals(base, value)
        elif isinstance(base, list) and isinstance(value, list):
            merged[key] = base + value
        else:
            merged[key] = value
    return merged


def _integer(value: Any, default: int, where: str) -> int:
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise TemplateError(f"{where}: expected a number, got {value!r}")


def _optional_str(value: Any, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TemplateError(f"{where}: expected a string, got {value!r}")


def _function(resource: ResourceSpec, defaults: Mapping[str, Any]) -> FunctionSpec:
    properties = _merge_globals(defaults, resource.properties)
    where = resource.logical_id
    events = {
        name: EventSpec(name=name, type=str(body.get("Type")), properties=dict(body.get("Properties") or {}))
        for name, body in (properties.get("Events") or {}).items()
    }
    code_uri = properties.get("CodeUri")
    return FunctionSpec(
        logical_id=resource.logical_id,
        code_uri=code_uri if isinstance(code_uri, str) else None,
        handler=_optional_str(properties.get("Handler"), f"{where}.Handler"),
        runtime=_optional_str(properties.get("Runtime"), f"{where}.Runtime"),
        memory_size=_integer(properties.get("MemorySize"), 128, f"{where}.MemorySize"),
        timeout=_integer(properties.get("Timeout"), 3, f"{where}.Timeout"),
        environment=dict((properties.get("Environment") or {}).get("Variables") or {}),
        events=events,
        layers=tuple(properties.get("Layers") or ()),
        function_name=properties.get("FunctionName"),
    )


def _target_of_type(
    value: Any,
    resources: Mapping[str, ResourceSpec],
    resource_type: str,
    where: str,
    attribute: str | None = None,
) -> str:
    """The logical id that ``value`` (``!Ref X`` or ``!GetAtt X.<attribute>``) points at."""
    target = _symbolic(value)
    if attribute is not None:
        target = target.removesuffix(f".{attribute}") if isinstance(target, str) else target
    resource = resources.get(target) if isinstance(target, str) else None
    if resource is None or resource.type != resource_type:
        wanted = f"!GetAtt <{resource_type}>.{attribute}" if attribute else f"!Ref <{resource_type}>"
        raise TemplateError(f"{where}: expected {wanted} of a resource in this template, got {value!r}")
    return resource.logical_id


def _enabled(properties: Mapping[str, Any]) -> bool:
    enabled = properties.get("Enabled", True)
    return bool(enabled) and str(properties.get("State", "ENABLED")).upper() != "DISABLED"


@dataclass
class _Events:
    """The functions' events, sorted by what drives them."""

    routes: list[RestRoute] = field(default_factory=list)
    schedules: list[ScheduleSpec] = field(default_factory=list)
    sqs_sources: list[SqsSourceSpec] = field(default_factory=list)
    sns_sources: list[SnsSourceSpec] = field(default_factory=list)
    unsupported: list[UnsupportedEvent] = field(default_factory=list)


def _sns_source(function: FunctionSpec, event: EventSpec, resources: Mapping[str, ResourceSpec]) -> SnsSourceSpec:
    where = f"{function.logical_id}.Events.{event.name}"
    props = event.properties
    filter_policy = props.get("FilterPolicy")
    if filter_policy is not None and not isinstance(filter_policy, dict):
        raise TemplateError(f"{where}.FilterPolicy: expected a map of attribute names to rules, got {filter_policy!r}")
    return SnsSourceSpec(
        function=function.logical_id,
        event=event.name,
        topic=_target_of_type(props.get("Topic"), resources, SNS_TOPIC, f"{where}.Topic"),
        filter_policy=filter_policy,
        enabled=_enabled(props),
        filter_policy_scope=_optional_str(props.get("FilterPolicyScope"), f"{where}.FilterPolicyScope"),
    )


def _events(functions: Mapping[str, FunctionSpec], resources: Mapping[str, ResourceSpec]) -> _Events:
    found = _Events()
    routes, schedules, sources, unsupported = found.routes, found.schedules, found.sqs_sources, found.unsupported
    for function in functions.values():
        for event in function.events.values():
            where = f"{function.logical_id}.Events.{event.name}"
            props = event.properties
            if event.type == "Api":
                api = props.get("RestApiId")
                path, method = props.get("Path"), props.get("Method")
                if not isinstance(path, str) or not path.startswith("/") or not isinstance(method, str):
                    raise TemplateError(f"{where}: an Api event needs a Path starting with / and a Method")
                if api is not None:
                    api = _target_of_type(api, resources, SERVERLESS_API, where)
                routes.append(
                    RestRoute(
                        api=api or IMPLICIT_API_ID,
                        path=path,
                        method=method.upper(),
                        function=function.logical_id,
                        event=event.name,
                    )
                )
            elif event.type == "Schedule":
                text = props.get("Schedule")
                if not isinstance(text, str):
                    raise TemplateError(f"{where}: Schedule must be a literal rate(...) or cron(...)")
                schedule_input = props.get("Input")
                schedules.append(
                    ScheduleSpec(
                        function=function.logical_id,
                        event=event.name,
                        text=text,
                        expression=parse_schedule_expression(text),
                        enabled=_enabled(props),
                        input=_optional_str(schedule_input, f"{where}.Input"),
                        name=props.get("Name"),
                    )
                )
            elif event.type == "SQS":
                batch_size = _integer(props.get("BatchSize"), 10, f"{where}.BatchSize")
                sources.append(
                    SqsSourceSpec(
                        function=function.logical_id,
                        event=event.name,
                        queue=_target_of_type(props.get("Queue"), resources, SQS_QUEUE, where, "Arn"),
                        batch_size=batch_size,
                        function_response_types=tuple(props.get("FunctionResponseTypes") or ()),
                        enabled=_enabled(props),
                    )
                )
            elif event.type == "SNS":
                found.sns_sources.append(_sns_source(function, event, resources))
            else:
                unsupported.append(UnsupportedEvent(function.logical_id, event.name, event.type))
    return found


def _unquote(value: Any, where: str) -> str:
    """SAM wants Cors values quoted (``"'*'"``), because they become header mapping expressions."""
    if isinstance(value, bool | int):
        return str(value)
    if not isinstance(value, str):
        raise TemplateError(f"{where}: expected a quoted string, got {value!r}")
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    return value


def _cors(value: Any, where: str) -> CorsConfig | None:
    if value is None:
        return None
    if isinstance(value, str):
        return CorsConfig(allow_origin=_unquote(value, where))
    if not isinstance(value, dict) or "AllowOrigin" not in value:
        raise TemplateError(f"{where}: Cors needs AllowOrigin")

    def optional(key: str) -> str | None:
        return None if value.get(key) is None else _unquote(value[key], f"{where}.{key}")

    return CorsConfig(
        allow_origin=_unquote(value["AllowOrigin"], f"{where}.AllowOrigin"),
        allow_headers=optional("AllowHeaders"),
        allow_methods=optional("AllowMethods"),
        max_age=optional("MaxAge"),
        allow_credentials=bool(value.get("AllowCredentials", False)),
    )


def _rest_apis(
    resources: Mapping[str, ResourceSpec], routes: list[RestRoute], api_globals: Mapping[str, Any]
) -> dict[str, RestApiSpec]:
    declared = {
        resource.logical_id: _merge_globals(api_globals, resource.properties)
        for resource in resources.values()
        if resource.type == SERVERLESS_API
    }
    if any(route.api == IMPLICIT_API_ID for route in routes):
        declared[IMPLICIT_API_ID] = _merge_globals(api_globals, {"StageName": IMPLICIT_API_STAGE})
    return {
        logical_id: RestApiSpec(
            logical_id=logical_id,
            stage_name=properties.get("StageName"),
            cors=_cors(properties.get("Cors"), f"{logical_id}.Cors"),
            routes=tuple(route for route in routes if route.api == logical_id),
        )
        for logical_id, properties in declared.items()
    }


_INTEGRATION_FUNCTION = re.compile(r"functions/([A-Za-z0-9]+)\.Arn(?::[^/]+)?/invocations")
_SELECTION = re.compile(r"\$request\.body\.[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*")
_IDENTITY_SOURCE = re.compile(r"route\.request\.(header|querystring)\.(.+)")


def _invoked_function(uri: Any, functions: Mapping[str, FunctionSpec], where: str) -> str:
    """The function that a ``…/functions/${Function.Arn}/invocations`` URI invokes."""
    symbolic = _symbolic(uri)
    match = _INTEGRATION_FUNCTION.search(symbolic) if isinstance(symbolic, str) else None
    if match is None or match.group(1) not in functions:
        raise TemplateError(f"{where}: expected …/functions/${{<Function>.Arn}}/invocations, got {uri!r}")
    return match.group(1)


def _authorizer(resource: ResourceSpec, functions: Mapping[str, FunctionSpec]) -> WebSocketAuthorizer:
    where = resource.logical_id
    if resource.properties.get("AuthorizerType") != "REQUEST":
        raise TemplateError(f"{where}: the local stack emulates REQUEST authorizers only")
    sources = []
    for source in resource.properties.get("IdentitySource") or ():
        match = _IDENTITY_SOURCE.fullmatch(source) if isinstance(source, str) else None
        if match is None:
            raise TemplateError(f"{where}: IdentitySource {source!r} is not route.request.header|querystring.<name>")
        sources.append((match.group(1), match.group(2)))
    function = _invoked_function(resource.properties.get("AuthorizerUri"), functions, f"{where}.AuthorizerUri")
    return WebSocketAuthorizer(where, function, tuple(sources))


def _websocket_apis(
    resources: Mapping[str, ResourceSpec], functions: Mapping[str, FunctionSpec]
) -> dict[str, WebSocketApiSpec]:
    apis = {
        resource.logical_id: resource
        for resource in resources.values()
        if resource.type == WS_API and resource.properties.get("ProtocolType") == "WEBSOCKET"
    }
    integrations = {
        resource.logical_id: _invoked_function(
            resource.properties.get("IntegrationUri"), functions, f"{resource.logical_id}.IntegrationUri"
        )
        for resource in resources.values()
        if resource.type == WS_INTEGRATION
    }
    authorizers = {
        resource.logical_id: _authorizer(resource, functions)
        for resource in resources.values()
        if resource.type == WS_AUTHORIZER
    }
    result: dict[str, WebSocketApiSpec] = {}
    for logical_id, api in apis.items():
        expression = api.properties.get("RouteSelectionExpression")
        if not isinstance(expression, str) or not _SELECTION.fullmatch(expression):
            raise TemplateError(
                f"{logical_id}: the local stack supports RouteSelectionExpression $request.body.<field>, "
                f"got {expression!r}"
            )
        routes: list[WebSocketRoute] = []
        stage_name: Any = None
        for resource in resources.values():
            if resource.type not in (WS_ROUTE, WS_STAGE):
                continue
            if _symbolic(resource.properties.get("ApiId")) != logical_id:
                continue
            if resource.type == WS_STAGE:
                stage_name = resource.properties.get("StageName")
                continue
            target = _symbolic(resource.properties.get("Target"))
            integration = target.removeprefix("integrations/") if isinstance(target, str) else None
            if integration not in integrations:
                raise TemplateError(
                    f"{resource.logical_id}: Target must be integrations/<an integration of this template>"
                )
            route_key = resource.properties.get("RouteKey")
            if not isinstance(route_key, str):
                raise TemplateError(f"{resource.logical_id}: RouteKey must be a string")
            routes.append(
                WebSocketRoute(
                    route_key,
                    integrations[integration],
                    resource.logical_id,
                    _route_authorizer(resource, authorizers),
                )
            )
        result[logical_id] = WebSocketApiSpec(logical_id, expression, stage_name, tuple(routes))
    return result


def _route_authorizer(
    route: ResourceSpec, authorizers: Mapping[str, WebSocketAuthorizer]
) -> WebSocketAuthorizer | None:
    kind = route.properties.get("AuthorizationType", "NONE")
    if kind == "NONE":
        return None
    if kind != "CUSTOM":
        raise TemplateError(f"{route.logical_id}: AuthorizationType {kind} is not emulated locally (NONE or CUSTOM)")
    target = _symbolic(route.properties.get("AuthorizerId"))
    if target not in authorizers:
        raise TemplateError(f"{route.logical_id}: AuthorizerId must be !Ref <AWS::ApiGatewayV2::Authorizer>")
    return authorizers[target]
