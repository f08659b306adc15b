"""Provisioning the real template.yaml into moto, from the template's own properties."""

from __future__ import annotations

import json
import socket
import string
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from infra.local.provision import Backend, Resources, create_tables, generate_secret_value, physical_name, provision
from infra.local.template import Template, load_template

ROOT = Path(__file__).resolve().parents[2]
REGION = "ap-southeast-1"
PARAMS = {"StoreId": "demo", "StoreName": "演示店", "AlertEmail": "supervisor@example.com"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template(ROOT / "template.yaml")


@pytest.fixture(scope="module")
def resources(template: Template, endpoint: str) -> Resources:
    return provision(template, endpoint, PARAMS, region=REGION)


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@pytest.mark.unit
def test_physical_names_are_deterministic_and_fit_the_service() -> None:
    assert physical_name("shopdesk-demo", "DataTable") == "shopdesk-demo-DataTable"
    assert physical_name("shopdesk-demo", "UploadsBucket", lowercase=True) == "shopdesk-demo-uploadsbucket"
    long_name = physical_name("shopdesk-" + "x" * 40, "UploadsBucket", lowercase=True, max_length=63)
    assert len(long_name) == 63
    assert long_name == physical_name("shopdesk-" + "x" * 40, "UploadsBucket", lowercase=True, max_length=63)


@pytest.mark.unit
def test_generated_secrets_honour_the_template_options() -> None:
    value = generate_secret_value({"PasswordLength": 48, "ExcludePunctuation": True})
    assert len(value) == 48
    assert set(value) <= set(string.ascii_letters + string.digits)
    document = json.loads(generate_secret_value({"SecretStringTemplate": '{"user": "x"}', "GenerateStringKey": "pw"}))
    assert document["user"] == "x" and len(document["pw"]) == 32


@pytest.mark.integration
def test_table_has_keys_every_gsi_stream_and_ttl(resources: Resources, endpoint: str) -> None:
    # Given the provisioned DataTable
    dynamodb = _client("dynamodb", endpoint)
    name = resources.refs["DataTable"]
    table = dynamodb.describe_table(TableName=name)["Table"]
    # Then its keys, indexes, billing and stream are the template's
    assert name == "shopdesk-demo-DataTable"
    assert {key["AttributeName"]: key["KeyType"] for key in table["KeySchema"]} == {
        "pk": "HASH",
        "sk": "RANGE",
    }
    indexes = {index["IndexName"]: index for index in table["GlobalSecondaryIndexes"]}
    assert set(indexes) == {f"gsi{n}" for n in range(1, 9)}
    for name_, index in indexes.items():
        assert index["Projection"]["ProjectionType"] == "ALL"
        assert [key["AttributeName"] for key in index["KeySchema"]] == [f"{name_}pk", f"{name_}sk"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert resources.attrs[("DataTable", "StreamArn")] == table["LatestStreamArn"]
    # And TTL is configured (moto accepts it but never expires items)
    ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")


@pytest.mark.integration
def test_user_pool_has_custom_store_id_policy_groups_and_client(resources: Resources, endpoint: str) -> None:
    cognito = _client("cognito-idp", endpoint)
    pool_id = resources.refs["UserPool"]
    pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert pool["Name"] == "shopdesk-demo"
    assert {"custom:store_id", "name"} <= {attribute["Name"] for attribute in pool["SchemaAttributes"]}
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] == 10
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    groups = {group["GroupName"]: group["Precedence"] for group in cognito.list_groups(UserPoolId=pool_id)["Groups"]}
    assert groups == {"admin": 0, "leader": 1, "agent": 2}
    client = cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=resources.refs["UserPoolClient"])
    assert set(client["UserPoolClient"]["ExplicitAuthFlows"]) == {
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }


@pytest.mark.integration
def test_reminder_queue_redrives_to_its_dead_letter_queue(resources: Resources, endpoint: str) -> None:
    sqs = _client("sqs", endpoint)
    attributes = sqs.get_queue_attributes(QueueUrl=resources.refs["ReminderQueue"], AttributeNames=["All"])[
        "Attributes"
    ]
    assert attributes["VisibilityTimeout"] == "60"
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == resources.attrs[("ReminderDeadLetterQueue", "Arn")]
    assert int(redrive["maxReceiveCount"]) == 5
    assert resources.attrs[("ReminderQueue", "QueueName")] == "shopdesk-demo-ReminderQueue"


@pytest.mark.integration
def test_bucket_secret_and_topic_follow_the_template(resources: Resources, endpoint: str) -> None:
    s3 = _client("s3", endpoint)
    rules = s3.get_bucket_cors(Bucket=resources.refs["UploadsBucket"])["CORSRules"]
    assert rules[0]["AllowedMethods"] == ["GET", "POST"] and rules[0]["MaxAgeSeconds"] == 3000
    secret = _client("secretsmanager", endpoint).get_secret_value(SecretId=resources.refs["StoreSecret"])
    assert len(secret["SecretString"]) == 48 and secret["SecretString"].isalnum()
    sns = _client("sns", endpoint)
    topic = sns.get_topic_attributes(TopicArn=resources.refs["SupervisorTopic"])["Attributes"]
    assert topic["DisplayName"] == "ShopDesk 演示店 alerts"
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=resources.refs["SupervisorTopic"])["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("email", "supervisor@example.com")]


@pytest.mark.integration
def test_function_environment_resolves_globals_with_overrides(resources: Resources) -> None:
    environment = resources.function_environment(
        "ChatSocketFunction", {"WS_CALLBACK_URL": "http://127.0.0.1:3001/prod"}
    )
    assert environment["TABLE_NAME"] == "shopdesk-demo-DataTable"
    assert environment["USER_POOL_ID"] == resources.refs["UserPool"]
    assert environment["REMINDER_QUEUE_URL"] == resources.refs["ReminderQueue"]
    assert environment["STORE_SECRET_ID"].startswith("arn:aws:secretsmanager:ap-southeast-1:")
    assert environment["WS_CALLBACK_URL"] == "http://127.0.0.1:3001/prod"
    # Unprovisioned resources still resolve, through placeholders
    plain = resources.function_environment("ChatSocketFunction")
    api_id = resources.refs["ChatWebSocketApi"]
    assert plain["WS_CALLBACK_URL"] == f"https://{api_id}.execute-api.ap-southeast-1.amazonaws.com/prod"


@pytest.mark.integration
def test_resources_survive_a_json_round_trip(resources: Resources, template: Template) -> None:
    # The serving process rebuilds them from what the provisioning child prints
    copy = Resources.from_json(template, resources.to_json())
    assert copy == resources
    assert copy.attrs[("DataTable", "StreamArn")] == resources.attrs[("DataTable", "StreamArn")]
    assert copy.function_environment("ChatSocketFunction") == resources.function_environment("ChatSocketFunction")


@pytest.mark.integration
def test_create_tables_alone_for_integration_tests(template: Template, endpoint: str) -> None:
    dynamodb = _client("dynamodb", endpoint)
    created = create_tables(template, dynamodb, names={"DataTable": "it-data"})
    assert created == {"DataTable": "it-data"}
    table = dynamodb.describe_table(TableName="it-data")["Table"]
    assert {index["IndexName"] for index in table["GlobalSecondaryIndexes"]} == {f"gsi{n}" for n in range(1, 9)}
    # Creating it again reuses the table instead of failing
    assert create_tables(template, dynamodb, names={"DataTable": "it-data"}) == created


@pytest.mark.integration
def test_the_sla_state_machine_is_created_with_its_substitutions_and_runs(tmp_path: Path) -> None:
    import urllib.request

    from infra.local.moto_backend import BackgroundBackend

    # Given moto with Step Functions execution on, and the real template provisioned into it
    backend = BackgroundBackend("127.0.0.1", _free_port()).start()
    try:
        request = urllib.request.Request(
            f"{backend.url}/moto-api/config",
            data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(),
            method="POST",
        )
        urllib.request.urlopen(request).close()
        resources = provision(load_template(ROOT / "template.yaml"), backend.url, PARAMS, region="ap-southeast-1")
        # Then the machine exists under its Ref, with the table and topic substituted in
        sfn = Backend(backend.url, "ap-southeast-1").client("stepfunctions")
        arn = resources.refs["SlaEscalationStateMachine"]
        definition = sfn.describe_state_machine(stateMachineArn=arn)["definition"]
        assert resources.refs["DataTable"] in definition and resources.refs["SupervisorTopic"] in definition
        assert "${" not in definition
        # And an execution with nothing left to wait for succeeds
        payload = {"ticket_id": "t", "sla_version": "1", "steps": [], "count": 0, "index": 0}
        execution = sfn.start_execution(stateMachineArn=arn, name="t-v1", input=json.dumps(payload))
        for _ in range(50):
            status = sfn.describe_execution(executionArn=execution["executionArn"])["status"]
            if status != "RUNNING":
                break
            time.sleep(0.1)
        assert status == "SUCCEEDED"
    finally:
        backend.stop()
