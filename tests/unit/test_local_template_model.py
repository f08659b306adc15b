"""The local stack's template reader: short tags, intrinsic functions, schedule expressions, routes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from infra.local.template import (
    NO_VALUE,
    CronExpression,
    RateExpression,
    TemplateError,
    load_yaml,
    parse_schedule_expression,
    parse_template,
    pseudo_parameters,
    resolve,
)

pytestmark = pytest.mark.unit

PARAMS = {"StoreId": "demo", "StageName": "prod", **pseudo_parameters("ap-southeast-1", "123456789012")}
REFS = {"Table": "shopdesk-demo-Table", "Api": "abc123"}
ATTRS = {("Queue", "Arn"): "arn:aws:sqs:ap-southeast-1:123456789012:q", ("Fn", "Arn"): "arn:fn"}


def _resolve(value: Any, conditions: dict[str, bool] | None = None) -> Any:
    return resolve(value, REFS, ATTRS, PARAMS, conditions)


def _ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


# --------------------------------------------------------------------------- YAML


def test_short_tags_load_as_long_forms() -> None:
    # Given YAML with every shape of short tag
    document = load_yaml(
        """
        a: !Ref Table
        b: !Sub "x-${StoreId}"
        c: !GetAtt Queue.Arn
        d: !GetAtt [Queue, Arn]
        e: !Join [",", [!Ref Table, b]]
        f: !If [IsProd, 1, 2]
        g: !GetAtt Db.Endpoint.Address
        h: 2010-09-09
        """
    )
    # Then each becomes its JSON long form, and dates stay strings as CloudFormation reads them
    assert document["a"] == {"Ref": "Table"}
    assert document["b"] == {"Fn::Sub": "x-${StoreId}"}
    assert document["c"] == document["d"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    assert document["e"] == {"Fn::Join": [",", [{"Ref": "Table"}, "b"]]}
    assert document["f"] == {"Fn::If": ["IsProd", 1, 2]}
    assert document["g"] == {"Fn::GetAtt": ["Db", "Endpoint.Address"]}
    assert document["h"] == "2010-09-09"


# --------------------------------------------------------------------------- intrinsics


def test_ref_prefers_parameters_then_resources() -> None:
    assert _resolve({"Ref": "StoreId"}) == "demo"
    assert _resolve({"Ref": "Table"}) == "shopdesk-demo-Table"
    assert _resolve({"Ref": "AWS::Region"}) == "ap-southeast-1"


def test_sub_resolves_parameters_refs_attributes_and_pseudo_parameters() -> None:
    text = "arn:${AWS::Partition}:x:${AWS::Region}:${AWS::AccountId}:${Api}/${StageName}/${Queue.Arn}"
    assert _resolve({"Fn::Sub": text}) == (
        "arn:aws:x:ap-southeast-1:123456789012:abc123/prod/arn:aws:sqs:ap-southeast-1:123456789012:q"
    )


def test_sub_with_variables_and_escaped_literal() -> None:
    value = {"Fn::Sub": ["${Greeting}, ${!NotAVariable} ${StoreId}", {"Greeting": {"Ref": "Table"}}]}
    assert _resolve(value) == "shopdesk-demo-Table, ${NotAVariable} demo"


def test_getatt_join_select_split() -> None:
    assert _resolve({"Fn::GetAtt": ["Fn", "Arn"]}) == "arn:fn"
    assert _resolve({"Fn::Join": ["-", ["a", {"Ref": "StoreId"}, 3]]}) == "a-demo-3"
    assert _resolve({"Fn::Select": [1, {"Fn::Split": [",", "x,y,z"]}]}) == "y"


def test_if_and_no_value_drop_properties() -> None:
    value = {"Keep": {"Fn::If": ["On", "yes", "no"]}, "Drop": {"Fn::If": ["On", {"Ref": "AWS::NoValue"}, 1]}}
    assert _resolve(value, {"On": True}) == {"Keep": "yes"}
    assert _resolve({"Ref": "AWS::NoValue"}) is NO_VALUE


def test_unknown_names_and_unsupported_functions_fail_clearly() -> None:
    with pytest.raises(TemplateError, match="Missing"):
        _resolve({"Ref": "Missing"})
    with pytest.raises(TemplateError, match=r"Queue\.Nope"):
        _resolve({"Fn::Sub": "${Queue.Nope}"})
    with pytest.raises(TemplateError, match="Fn::ImportValue is not supported"):
        _resolve({"Fn::ImportValue": "x"})


def test_pseudo_parameters_follow_the_partition() -> None:
    assert pseudo_parameters("cn-north-1", "1")["AWS::Partition"] == "aws-cn"
    assert pseudo_parameters("cn-north-1", "1")["AWS::URLSuffix"] == "amazonaws.com.cn"


# --------------------------------------------------------------------------- schedules


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("rate(1 minute)", 60), ("rate(5 minutes)", 300), ("rate(1 hour)", 3600), ("rate(2 hours)", 7200),
     ("rate(1 day)", 86400), ("rate(3 days)", 259200)],
)  # fmt: skip
def test_rate_expressions(text: str, seconds: int) -> None:
    assert parse_schedule_expression(text) == RateExpression(seconds)


@pytest.mark.parametrize("text", ["rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "rate(1 week)", "every 5m"])
def test_invalid_rates_are_rejected_like_eventbridge(text: str) -> None:
    with pytest.raises(TemplateError):
        parse_schedule_expression(text)


def test_cron_every_fifteen_minutes_on_weekdays() -> None:
    # Given a cron for every 15 minutes, 09-17 UTC, Monday to Friday
    expression = parse_schedule_expression("cron(0/15 9-17 ? * MON-FRI *)")
    assert isinstance(expression, CronExpression)
    # When asked after Friday 17:50 (2026-11-27 is a Friday)
    # Then the next run is Monday 09:00
    assert expression.next_after(_ts("2026-11-27T17:50:00")) == _ts("2026-11-30T09:00:00")
    # And within the window it steps by 15 minutes
    assert expression.next_after(_ts("2026-11-30T09:00:00")) == _ts("2026-11-30T09:15:00")


def test_cron_day_of_month_and_month_names() -> None:
    expression = parse_schedule_expression("cron(30 2 1 JAN,JUL ? *)")
    assert expression.next_after(_ts("2026-02-10T00:00:00")) == _ts("2026-07-01T02:30:00")


@pytest.mark.parametrize(
    "text",
    [
        "cron(0 12 * * * *)",
        "cron(0 12 ? * ? *)",
        "cron(0 12 L * ? *)",
        "cron(0 12 ? * 6#3 *)",
        "cron(0 12 *)",
    ],
)
def test_unsupported_or_invalid_cron_is_rejected(text: str) -> None:
    with pytest.raises(TemplateError):
        parse_schedule_expression(text)


def test_cron_that_never_fires_is_reported() -> None:
    expression = parse_schedule_expression("cron(0 0 31 2 ? *)")
    with pytest.raises(TemplateError, match="never fires"):
        expression.next_after(_ts("2026-01-01T00:00:00"))


# --------------------------------------------------------------------------- model

TINY = """
Parameters:
  Stage: {Type: String, Default: live, AllowedPattern: "^[a-z]+$"}
  Name: {Type: String}
Globals:
  Function:
    Timeout: 10
    Environment: {Variables: {SHARED: one, NAME: !Ref Name}}
    Layers: [!Ref Layer]
Resources:
  Layer:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: layer/}
  Queue:
    Type: AWS::SQS::Queue
    Properties: {RedrivePolicy: {deadLetterTargetArn: !GetAtt Dlq.Arn, maxReceiveCount: 3}}
  Dlq:
    Type: AWS::SQS::Queue
  Api:
    Type: AWS::Serverless::Api
    Properties: {StageName: !Ref Stage, Cors: "'https://shop.example'"}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: app.handler
      Environment: {Variables: {OWN: two, SHARED: three}}
      Events:
        Get: {Type: Api, Properties: {RestApiId: !Ref Api, Path: "/things/{id}", Method: get}}
        Implicit: {Type: Api, Properties: {Path: /open, Method: POST}}
        Tick: {Type: Schedule, Properties: {Schedule: rate(5 minutes), Input: '{"k": 1}', Enabled: false}}
        Work: {Type: SQS, Properties: {Queue: !GetAtt Queue.Arn}}
        Stream: {Type: DynamoDB, Properties: {Stream: arn}}
  Socket:
    Type: AWS::ApiGatewayV2::Api
    Properties: {ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.meta.kind}
  Integration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Socket
      IntegrationUri: !Sub "arn:aws:apigateway:r:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"
  Auth:
    Type: AWS::ApiGatewayV2::Authorizer
    Properties:
      ApiId: !Ref Socket
      AuthorizerType: REQUEST
      AuthorizerUri: !Sub "arn:aws:apigateway:r:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"
      IdentitySource: [route.request.header.Authorization, route.request.querystring.token]
  Connect:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Socket
      RouteKey: $connect
      AuthorizationType: CUSTOM
      AuthorizerId: !Ref Auth
      Target: !Join ["/", [integrations, !Ref Integration]]
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties: {ApiId: !Ref Socket, StageName: !Ref Stage}
"""


@pytest.fixture
def tiny(tmp_path: Path) -> Any:
    return parse_template(load_yaml(TINY), tmp_path)


def test_functions_merge_globals_like_sam(tiny: Any) -> None:
    function = tiny.functions["Fn"]
    # Maps merge with the function's own values winning, lists concatenate, scalars override
    assert function.environment == {"SHARED": "three", "NAME": {"Ref": "Name"}, "OWN": "two"}
    assert function.timeout == 10
    assert function.memory_size == 128
    assert function.layers == ({"Ref": "Layer"},)
    assert tiny.layer_dirs("Fn") == [(tiny.root / "layer").resolve()]


def test_events_become_routes_schedules_and_sources(tiny: Any) -> None:
    routes = {(route.api, route.method, route.path) for api in tiny.rest_apis.values() for route in api.routes}
    assert routes == {("Api", "GET", "/things/{id}"), ("ServerlessRestApi", "POST", "/open")}
    assert tiny.rest_apis["Api"].cors.allow_origin == "https://shop.example"
    assert tiny.rest_apis["ServerlessRestApi"].stage_name == "Prod"
    (schedule,) = tiny.schedules
    assert (schedule.expression, schedule.enabled, schedule.input) == (RateExpression(300), False, '{"k": 1}')
    (source,) = tiny.sqs_sources
    assert (source.queue, source.batch_size, source.report_batch_item_failures) == ("Queue", 10, False)
    assert [(event.event, event.type) for event in tiny.unsupported_events] == [("Stream", "DynamoDB")]


def test_websocket_routes_and_authorizer(tiny: Any) -> None:
    api = tiny.websocket_api
    assert api.selection_path == ("meta", "kind")
    assert api.stage_name == {"Ref": "Stage"}
    connect = api.route("$connect")
    assert connect.function == "Fn"
    assert connect.authorizer.function == "Fn"
    assert connect.authorizer.identity_sources == (("header", "Authorization"), ("querystring", "token"))


def test_parameters_take_defaults_and_are_validated(tiny: Any) -> None:
    values = tiny.parameter_values({"Name": "x"}, region="eu-west-1", account_id="1")
    assert (values["Stage"], values["Name"], values["AWS::Region"]) == ("live", "x", "eu-west-1")
    with pytest.raises(TemplateError, match="does not match"):
        tiny.parameter_values({"Name": "x", "Stage": "UPPER"}, region="eu-west-1", account_id="1")
    with pytest.raises(TemplateError, match="no value"):
        tiny.parameter_values({}, region="eu-west-1", account_id="1")
    with pytest.raises(TemplateError, match="unknown"):
        tiny.parameter_values({"Name": "x", "Typo": "y"}, region="eu-west-1", account_id="1")


def test_dependency_order_puts_referenced_resources_first(tiny: Any) -> None:
    order = tiny.dependency_order()
    assert order.index("Dlq") < order.index("Queue")
    assert order.index("Integration") < order.index("Connect")
    assert ("Dlq", "Arn") in tiny.attribute_references()


def test_websocket_integration_must_invoke_a_template_function(tmp_path: Path) -> None:
    document = load_yaml(TINY.replace("${Fn.Arn}/invocations", "arn:aws:lambda:x:1:function:elsewhere/invocations", 1))
    with pytest.raises(TemplateError, match="IntegrationUri"):
        parse_template(document, tmp_path)


SNS_TEMPLATE = """
Resources:
  Alerts:
    Type: AWS::SNS::Topic
  Work:
    Type: AWS::SQS::Queue
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: app.handler
      Events:
        Escalations:
          Type: SNS
          Properties:
            Topic: !Ref Alerts
            FilterPolicy:
              kind: [sla_escalation]
        Everything: {Type: SNS, Properties: {Topic: !Ref Alerts, FilterPolicyScope: MessageBody}}
"""


def test_sns_events_become_sns_sources_with_their_filter_policy(tmp_path: Path) -> None:
    # Given a function with two SNS events on one topic, one of them filtered on an attribute
    template = parse_template(load_yaml(SNS_TEMPLATE), tmp_path)
    # Then both are SNS sources on the topic's logical id, driven by the local stack
    escalations, everything = template.sns_sources
    assert (escalations.function, escalations.event, escalations.topic) == ("Fn", "Escalations", "Alerts")
    assert escalations.filter_policy == {"kind": ["sla_escalation"]}
    assert escalations.enabled and escalations.filter_policy_scope is None
    assert (everything.event, everything.filter_policy, everything.filter_policy_scope) == (
        "Everything",
        None,
        "MessageBody",
    )
    assert template.unsupported_events == ()


@pytest.mark.parametrize(
    ("topic", "message"),
    [
        ("!Ref Work", r"Fn\.Events\.Escalations\.Topic: expected !Ref <AWS::SNS::Topic>"),
        ("!Ref Nowhere", r"Fn\.Events\.Escalations\.Topic: expected !Ref <AWS::SNS::Topic>"),
        ("arn:aws:sns:ap-southeast-1:123456789012:elsewhere", r"Fn\.Events\.Escalations\.Topic"),
    ],
)
def test_an_sns_event_must_name_a_topic_of_the_template(tmp_path: Path, topic: str, message: str) -> None:
    # Given an SNS event whose Topic is a queue, an unknown resource, or a topic outside the template
    document = load_yaml(SNS_TEMPLATE.replace("Topic: !Ref Alerts\n", f"Topic: {topic}\n", 1))
    # Then reading the template says which event is wrong and what it wants
    with pytest.raises(TemplateError, match=message):
        parse_template(document, tmp_path)


def test_an_sns_filter_policy_must_be_a_map(tmp_path: Path) -> None:
    # Given a FilterPolicy written as a list
    document = load_yaml(SNS_TEMPLATE.replace("kind: [sla_escalation]", "- kind", 1))
    # Then it is rejected with the event's path
    with pytest.raises(TemplateError, match=r"Fn\.Events\.Escalations\.FilterPolicy"):
        parse_template(document, tmp_path)
