"""Creates, with boto3, the AWS resources that template.yaml declares, from the template's own properties.

CloudFormation cannot deploy the SAM template into moto (implicit APIs, ApiGatewayV2, subscriptions
and TTL are skipped), so each supported resource type is translated into its API calls here. Resources
that are not provisioned (functions, APIs, CloudFront, permissions, layers) get placeholder refs and
attributes, so that every ``!Ref``/``!Sub``/``!GetAtt`` in the template still resolves.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError

from infra.local.template import (
    DYNAMODB_TABLE,
    S3_BUCKET,
    SECRET,
    SERVERLESS_API,
    SERVERLESS_FUNCTION,
    SERVERLESS_LAYER,
    SNS_SUBSCRIPTION,
    SNS_TOPIC,
    SQS_QUEUE,
    USER_POOL,
    USER_POOL_CLIENT,
    USER_POOL_GROUP,
    WS_API,
    WS_STAGE,
    ResourceSpec,
    Template,
    pseudo_parameters,
    resolve,
)

log = logging.getLogger(__name__)

DEFAULT_REGION = "ap-southeast-1"
# moto and LocalStack accept any credentials; real ones must never be needed locally.
DUMMY_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


def physical_name(prefix: str, logical_id: str, *, lowercase: bool = False, max_length: int = 255) -> str:
    """``<prefix>-<LogicalId>``, deterministic so that restarts and tests find the same names."""
    name = f"{prefix}-{logical_id}"
    if lowercase:
        name = name.lower()
    if len(name) > max_length:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = f"{name[: max_length - 9]}-{digest}"
    return name


def _token(seed: str, length: int) -> str:
    """A stable lowercase id, shaped like API Gateway's or CloudFront's, for placeholders."""
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


def _warn_unapplied(resource: ResourceSpec, properties: Mapping[str, Any], applied: set[str]) -> None:
    for key in sorted(set(properties) - applied):
        log.warning("%s: property %s is not applied by the local stack", resource.logical_id, key)


def _pick(properties: Mapping[str, Any], keys: set[str]) -> dict[str, Any]:
    return {key: properties[key] for key in keys if key in properties}


def _attribute_text(value: Any) -> str:
    """SQS and SNS attributes are strings; maps and lists are JSON documents."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class Backend:
    """Makes boto3 clients for one endpoint (moto or LocalStack), with per-service overrides."""

    def __init__(
        self,
        endpoint_or_session: str | boto3.session.Session,
        region: str,
        service_endpoints: Mapping[str, str] | None = None,
    ) -> None:
        self.region = region
        self.service_endpoints = dict(service_endpoints or {})
        if isinstance(endpoint_or_session, str):
            self.endpoint_url: str | None = endpoint_or_session
            self._session = boto3.session.Session(region_name=region, **DUMMY_CREDENTIALS)
        else:
            self.endpoint_url = None
            self._session = endpoint_or_session
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            endpoint = self.service_endpoints.get(service, self.endpoint_url)
            self._clients[service] = self._session.client(service, region_name=self.region, endpoint_url=endpoint)
        return self._clients[service]


@dataclass
class Resources:
    """What ``provision`` created: the template's refs and attributes, resolved for this backend."""

    template: Template
    params: dict[str, Any]
    conditions: dict[str, bool]
    region: str
    account_id: str
    refs: dict[str, str] = field(default_factory=dict)
    attrs: dict[tuple[str, str], str] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        return resolve(value, self.refs, self.attrs, self.params, self.conditions)

    def function_environment(self, function_id: str, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
        """The function's resolved Environment (Globals merged with its own), then ``overrides``."""
        variables = self.resolve(self.template.functions[function_id].environment)
        environment = {name: _attribute_text(value) for name, value in variables.items()}
        environment.update(overrides or {})
        return environment

    def function_name(self, function_id: str) -> str:
        return self.refs[function_id]

    def function_arn(self, function_id: str) -> str:
        return self.attrs[(function_id, "Arn")]

    def to_json(self) -> str:
        """Everything but the template, which ``from_json`` is given: the reader has loaded it already."""
        return json.dumps(
            {
                "params": self.params,
                "conditions": self.conditions,
                "region": self.region,
                "account_id": self.account_id,
                "refs": self.refs,
                "attrs": [[logical_id, attribute, value] for (logical_id, attribute), value in self.attrs.items()],
            }
        )

    @classmethod
    def from_json(cls, template: Template, text: str) -> Resources:
        data = json.loads(text)
        return cls(
            template=template,
            params=data["params"],
            conditions=data["conditions"],
            region=data["region"],
            account_id=data["account_id"],
            refs=data["refs"],
            attrs={(logical_id, attribute): value for logical_id, attribute, value in data["attrs"]},
        )


@dataclass
class _Context:
    backend: Backend
    resources: Resources
    prefix: str

    @property
    def partition(self) -> str:
        return str(self.resources.params["AWS::Partition"])

    @property
    def url_suffix(self) -> str:
        return str(self.resources.params["AWS::URLSuffix"])

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return (
            f"arn:{self.partition}:{service}:{self.resources.region if region else ''}:"
            f"{self.resources.account_id if account else ''}:{resource}"
        )


Provisioner = Callable[[_Context, ResourceSpec, dict[str, Any]], tuple[str, dict[str, str]]]


def provision(
    template: Template,
    endpoint_or_session: str | boto3.session.Session,
    params: Mapping[str, Any],
    *,
    region: str | None = None,
    service_endpoints: Mapping[str, str] | None = None,
    name_prefix: str | None = None,
) -> Resources:
    """Create every supported resource of ``template`` and return its refs and attributes.

    ``params`` are the template parameters (defaults apply); ``service_endpoints`` sends single
    services elsewhere, e.g. ``{"cognito-idp": moto_url}`` when the rest lives in LocalStack.
    """
    if region is None:
        session_region = None if isinstance(endpoint_or_session, str) else endpoint_or_session.region_name
        region = session_region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    backend = Backend(endpoint_or_session, region or DEFAULT_REGION, service_endpoints)
    account_id = str(backend.client("sts").get_caller_identity()["Account"])
    values = template.parameter_values(params, region=backend.region, account_id=account_id)
    resources = Resources(
        template=template,
        params=values,
        conditions=template.conditions(values),
        region=backend.region,
        account_id=account_id,
    )
    context = _Context(backend, resources, name_prefix or f"shopdesk-{values.get('StoreId', 'local')}")
    referenced = template.attribute_references()
    for logical_id in template.dependency_order():
        resource = template.resources[logical_id]
        if resource.condition is not None and not resources.conditions.get(resource.condition, False):
            continue
        provisioner = _PROVISIONERS.get(resource.type)
        if provisioner is None:
            ref, attrs = _placeholder(context, resource)
        else:
            ref, attrs = provisioner(context, resource, resources.resolve(resource.properties))
            log.debug("provisioned %s %s", resource.type, ref)
        resources.refs[logical_id] = ref
        for attribute, value in attrs.items():
            resources.attrs[(logical_id, attribute)] = value
        for target, attribute in referenced:
            if target == logical_id and (target, attribute) not in resources.attrs and provisioner is None:
                resources.attrs[(target, attribute)] = f"{ref}-{attribute.lower()}"
    return resources


# --------------------------------------------------------------------------- placeholders


def _placeholder(context: _Context, resource: ResourceSpec) -> tuple[str, dict[str, str]]:
    """What Ref/GetAtt return for a resource that exists only on AWS (or in the gateway)."""
    logical_id, properties = resource.logical_id, resource.properties
    token = _token(f"{context.prefix}/{logical_id}", 10)
    region, suffix = context.resources.region, context.url_suffix
    if resource.type == SERVERLESS_FUNCTION:
        name = context.resources.resolve(properties.get("FunctionName")) or physical_name(
            context.prefix, logical_id, max_length=64
        )
        return name, {"Arn": context.arn("lambda", f"function:{name}")}
    if resource.type in (SERVERLESS_API, WS_API):
        scheme = "wss" if resource.type == WS_API else "https"
        return token, {
            "ApiId": token,
            "ApiEndpoint": f"{scheme}://{token}.execute-api.{region}.{suffix}",
            "RootResourceId": _token(f"{token}/root", 10),
        }
    if resource.type == SERVERLESS_LAYER:
        name = context.resources.resolve(properties.get("LayerName")) or physical_name(context.prefix, logical_id)
        arn = context.arn("lambda", f"layer:{name}:1")
        return arn, {"Arn": arn}
    if resource.type == WS_STAGE:
        return str(context.resources.resolve(properties.get("StageName"))), {}
    if resource.type == "AWS::CloudFront::Distribution":
        distribution = f"E{token.upper()}"
        return distribution, {"Id": distribution, "DomainName": f"d{token}.cloudfront.net"}
    return token, {
        "Id": token,
        "Arn": context.arn(resource.type.split("::")[1].lower(), f"{logical_id}/{token}"),
    }


# --------------------------------------------------------------------------- DynamoDB

_TABLE_REQUEST_KEYS = {
    "AttributeDefinitions",
    "KeySchema",
    "LocalSecondaryIndexes",
    "ProvisionedThroughput",
    "OnDemandThroughput",
    "SSESpecification",
    "TableClass",
    "DeletionProtectionEnabled",
    "Tags",
}
_INDEX_KEYS = {"IndexName", "KeySchema", "Projection", "ProvisionedThroughput", "OnDemandThroughput"}


def _create_table(client: Any, resource: ResourceSpec, name: str, properties: Mapping[str, Any]) -> dict[str, Any]:
    """Create (or adopt, if it already exists) one table, then apply TTL and PITR."""
    request: dict[str, Any] = {
        "TableName": name,
        "BillingMode": properties.get("BillingMode", "PROVISIONED"),
        **_pick(properties, _TABLE_REQUEST_KEYS),
    }
    if "GlobalSecondaryIndexes" in properties:
        request["GlobalSecondaryIndexes"] = [
            _pick(index, _INDEX_KEYS) for index in properties["GlobalSecondaryIndexes"]
        ]
    stream = properties.get("StreamSpecification")
    if stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    _warn_unapplied(
        resource,
        properties,
        _TABLE_REQUEST_KEYS
        | {
            "TableName",
            "BillingMode",
            "GlobalSecondaryIndexes",
            "StreamSpecification",
            "TimeToLiveSpecification",
            "PointInTimeRecoverySpecification",
        },
    )
    try:
        description = client.create_table(**request)["TableDescription"]
    except ClientError as error:
        if _error_code(error) != "ResourceInUseException":
            raise
        log.info("table %s exists already; reusing it", name)
        description = client.describe_table(TableName=name)["Table"]
    ttl = properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        # moto accepts TTL but never deletes expired items; features must not rely on it.
        try:
            client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
        except ClientError as error:
            if "already enabled" not in str(error).lower():
                raise
    pitr = properties.get("PointInTimeRecoverySpecification")
    if pitr and pitr.get("PointInTimeRecoveryEnabled"):
        client.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    return dict(description)


def _table(context: _Context, resource: ResourceSpec, properties: dict[str, Any]) -> tuple[str, dict[str, str]]:
    name = properties.get("TableName") or physical_name(context.prefix, resource.logical_id)
    description = _create_table(context.backend.client("dynamodb"), resource, name, properties)
    attrs = {"Arn": description["TableArn"]}
    if description.get("LatestStreamArn"):
        attrs["StreamArn"] = description["LatestStreamArn"]
    return name, attrs


def create_tables(
    template: Template,
    dynamodb_client: Any,
    params: Mapping[str, Any] | None = None,
    names: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Create the template's DynamoDB tables only, e.g. for integration tests; returns logical id → name.

    ``names`` overrides table names by logical id; ``params`` resolves intrinsics in the table
    properties (parameter Defaults and pseudo parameters apply without it).
    """
    values: dict[str, Any] = {name: spec["Default"] for name, spec in template.parameters.items() if "Default" in spec}
    values.update(pseudo_parameters(dynamodb_client.meta.region_name, "123456789012"))
    values.update(params or {})
    prefix = f"shopdesk-{values.get('StoreId', 'local')}"
    created: dict[str, str] = {}
    for resource in template.tables:
        properties = resolve(resource.properties, {}, {}, values)
        name = (names or {}).get(resource.logical_id) or properties.get("TableName")
        name = name or physical_name(prefix, resource.logical_id)
        _create_table(dynamodb_client, resource, name, properties)
        created[resource.logical_id] = name
    return created


# --------------------------------------------------------------------------- Cognito

_POOL_KEYS = {
    "AccountRecoverySetting",
    "AdminCreateUserConfig",
    "AliasAttributes",
    "AutoVerifiedAttributes",
    "DeletionProtection",
    "DeviceConfiguration",
    "EmailConfiguration",
    "EmailVerificationMessage",
    "EmailVerificationSubject",
    "LambdaConfig",
    "MfaConfiguration",
    "Policies",
    "Schema",
    "SmsAuthenticationMessage",
    "SmsConfiguration",
    "SmsVerificationMessage",
    "UserAttributeUpdateSettings",
    "UsernameAttributes",
    "UsernameConfiguration",
    "UserPoolAddOns",
    "UserPoolTags",
    "UserPoolTier",
    "VerificationMessageTemplate",
}
_CLIENT_KEYS = {
    "AccessTokenValidity",
    "AllowedOAuthFlows",
    "AllowedOAuthFlowsUserPoolClient",
    "AllowedOAuthScopes",
    "AnalyticsConfiguration",
    "AuthSessionValidity",
    "CallbackURLs",
    "DefaultRedirectURI",
    "EnablePropagateAdditionalUserContextData",
    "EnableTokenRevocation",
    "ExplicitAuthFlows",
    "GenerateSecret",
    "IdTokenValidity",
    "LogoutURLs",
    "PreventUserExistenceErrors",
    "ReadAttributes",
    "RefreshTokenValidity",
    "SupportedIdentityProviders",
    "TokenValidityUnits",
    "WriteAttributes",
}


def _user_pool(context: _Context, resource: ResourceSpec, properties: dict[str, Any]) -> tuple[str, dict[str, str]]:
    # CloudFormation and the API share these names; Schema entries that are not standard
    # attributes become custom:<name>, exactly as on AWS.
    request = {
        "PoolName": properties.get("UserPoolName") or physical_name(context.prefix, resource.logical_id),
        **_pick(properties, _POOL_KEYS),
    }
    _warn_unapplied(resource, properties, _POOL_KEYS | {"UserPoolName"})
    pool = context.backend.client("cognito-idp").create_user_pool(**request)["UserPool"]
    pool_id = pool["Id"]
    provider = f"cognito-idp.{context.resources.region}.{context.url_suffix}/{pool_id}"
    return pool_id, {
        "Arn": pool["Arn"],
        "UserPoolId": pool_id,
        "ProviderName": provider,
        "ProviderURL": f"https://{provider}",
    }


def _user_pool_client(
    context: _Context, resource: ResourceSpec, properties: dict[str, Any]
) -> tuple[str, dict[str, str]]:
    request = {
        "UserPoolId": properties["UserPoolId"],
        "ClientName": properties.get("ClientName") or physical_name(context.prefix, resource.logical_id),
        **_pick(properties, _CLIENT_KEYS),
    }
    _warn_unapplied(resource, properties, _CLIENT_KEYS | {"UserPoolId", "ClientName"})
    client = context.backend.client("cognito-idp").create_user_pool_client(**request)["UserPoolClient"]
    attrs = {"ClientId": client["ClientId"], "Name": client["ClientName"]}
    if client.get("ClientSecret"):
        attrs["ClientSecret"] = client["ClientSecret"]
    return client["ClientId"], attrs


def _user_pool_group(
    context: _Context, resource: ResourceSpec, properties: dict[str, Any]
) -> tuple[str, dict[str, str]]:
    request = {
        "UserPoolId": properties["UserPoolId"],
        "GroupName": properties.get("GroupName") or physical_name(context.prefix, resource.logical_id),
        **_pick(properties, {"Description", "Precedence", "RoleArn"}),
    }
    _warn_unapplied(resource, properties, {"UserPoolId", "GroupName", "Description", "Precedence", "RoleArn"})
    context.backend.client("cognito-idp").create_group(**request)
    return request["GroupName"], {}


# --------------------------------------------------------------------------- SQS and SNS

_QUEUE_ATTRIBUTES = {
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "DelaySeconds",
    "FifoQueue",
    "FifoThroughputLimit",
    "KmsDataKeyReusePeriodSeconds",
    "KmsMasterKeyId",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "RedriveAllowPolicy",
    "RedrivePolicy",
    "SqsManagedSseEnabled",
    "VisibilityTimeout",
}


def _tags(properties: Mapping[str, Any]) -> dict[str, str]:
    return {tag["Key"]: str(tag["Value"]) for tag in properties.get("Tags") or ()}


def _queue(context: _Context, resource: ResourceSpec, properties: dict[str, Any]) -> tuple[str, dict[str, str]]:
    name = properties.get("QueueName") or physical_name(context.prefix, resource.logical_id, max_length=80)
    if properties.get("FifoQueue") and not name.endswith(".fifo"):
        name = f"{name[:75]}.fifo"
    attributes = {key: _attribute_text(value) for key, value in _pick(properties, _QUEUE_ATTRIBUTES).items()}
    _warn_unapplied(resource, properties, _QUEUE_ATTRIBUTES | {"QueueName", "Tags"})
    client = context.backend.client("sqs")
    request: dict[str, Any] = {"QueueName": name, "Attributes": attributes}
    if properties.get("Tags"):
        request["tags"] = _tags(properties)
    url = client.create_queue(**request)["QueueUrl"]
    arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, {"Arn": arn, "QueueName": name, "QueueUrl": url}


_TOPIC_ATTRIBUTES = {
    "ArchivePolicy",
    "ContentBasedDeduplication",
    "DisplayName",
    "FifoTopic",
    "KmsMasterKeyId",
    "SignatureVersion",
    "TracingConfig",
}
_SUBSCRIPTION_ATTRIBUTES = {
    "DeliveryPolicy",
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
    "ReplayPolicy",
    "SubscriptionRoleArn",
}


def _topic(context: _Context, resource: ResourceSpec, properties: dict[str, Any]) -> tuple[str, dict[str, str]]:
    name = properties.get("TopicName") or physical_name(context.prefix, resource.logical_id, max_length=256)
    if properties.get("FifoTopic") and not name.endswith(".fifo"):
        name = f"{name}.fifo"
    attributes = {key: _attribute_text(value) for key, value in _pick(properties, _TOPIC_ATTRIBUTES).items()}
    _warn_unapplied(resource, properties, _TOPIC_ATTRIBUTES | {"TopicName", "Tags", "Subscription"})
    client = context.backend.client("sns")
    request: dict[str, Any] = {"Name": name, "Attributes": attributes}
    if properties.get("Tags"):
        request["Tags"] = [{"Key": key, "Value": value} for key, value in _tags(properties).items()]
    arn = client.create_topic(**request)["TopicArn"]
    for subscription in properties.get("Subscription") or ():
        client.subscribe(TopicArn=arn, Protocol=subscription["Protocol"], Endpoint=subscription["Endpoint"])
    return arn, {"TopicArn": arn, "TopicName": name}


def _subscription(context: _Context, resource: ResourceSpec, properties: dict[str, Any]) -> tuple[str, dict[str, str]]:
    attributes = {key: _attribute_text(value) for key, value in _pick(properties, _SUBSCRIPTION_ATTRIBUTES).items()}
    _warn_unapplied(resource, properties, _SUBSCRIPTION_ATTRIBUTES | {"TopicArn", "Protocol", "Endpoint", "Region"})
    response = context.backend.client("sns").subscribe(
        TopicArn=properties["TopicArn"],
        Protocol=properties["Protocol"],
        Endpoint=properties["Endpoint"],
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )
    return str(response["SubscriptionArn"]), {}


# --------------------------------------------------------------------------- S3 and Secrets Manager


def _bucket(context: _Context, resource: ResourceSpec, properties: dict[str, Any]) -> tuple[str, dict[str, str]]:
    # S3 bucket names are lowercase and at most 63 characters.
    name = properties.get("BucketName") or physical_name(
        context.prefix, resource.logical_id, lowercase=True, max_length=63
    )
    _warn_unapplied(
        resource,
        properties,
        {
            "BucketName",
            "CorsConfiguration",
            "PublicAccessBlockConfiguration",
            "VersioningConfiguration",
            "Tags",
        },
    )
    client = context.backend.client("s3")
    request: dict[str, Any] = {"Bucket": name}
    if context.resources.region != "us-east-1":
        request["CreateBucketConfiguration"] = {"LocationConstraint": context.resources.region}
    try:
        client.create_bucket(**request)
    except ClientError as error:
        if _error_code(error) != "BucketAlreadyOwnedByYou":
            raise
        log.info("bucket %s exists already; reusing it", name)
    cors = properties.get("CorsConfiguration")
    if cors:
        rules = [_cors_rule(rule) for rule in cors.get("CorsRules") or ()]
        client.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
    if properties.get("PublicAccessBlockConfiguration"):
        client.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=properties["PublicAccessBlockConfiguration"]
        )
    if properties.get("VersioningConfiguration"):
        client.put_bucket_versioning(
            Bucket=name, VersioningConfiguration={"Status": properties["VersioningConfiguration"]["Status"]}
        )
    if properties.get("Tags"):
        tag_set = [{"Key": key, "Value": value} for key, value in _tags(properties).items()]
        client.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tag_set})
    region, suffix = context.resources.region, context.url_suffix
    return name, {
        "Arn": context.arn("s3", name, region=False, account=False),
        "DomainName": f"{name}.s3.{suffix}",
        "RegionalDomainName": f"{name}.s3.{region}.{suffix}",
        "DualStackDomainName": f"{name}.s3.dualstack.{region}.{suffix}",
        "WebsiteURL": f"http://{name}.s3-website.{region}.{suffix}",
    }


def _cors_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """CloudFormation's CorsRule spells two keys differently from the S3 API."""
    renamed = {"Id": "ID", "MaxAge": "MaxAgeSeconds"}
    return {renamed.get(key, key): value for key, value in rule.items()}


def generate_secret_value(spec: Mapping[str, Any]) -> str:
    """A local ``GenerateSecretString``, with Secrets Manager's options and defaults."""
    excluded = set(str(spec.get("ExcludeCharacters", "")))
    pools = [
        pool
        for flag, pool in (
            ("ExcludeLowercase", string.ascii_lowercase),
            ("ExcludeUppercase", string.ascii_uppercase),
            ("ExcludeNumbers", string.digits),
            ("ExcludePunctuation", string.punctuation),
        )
        if not spec.get(flag, False)
    ]
    if spec.get("IncludeSpace", False):
        pools.append(" ")
    pools = [kept for kept in ("".join(ch for ch in pool if ch not in excluded) for pool in pools) if kept]
    if not pools:
        raise ValueError("GenerateSecretString excludes every character")
    length = int(spec.get("PasswordLength", 32))
    chars = [secrets.choice(pool) for pool in pools] if spec.get("RequireEachIncludedType", True) else []
    alphabet = "".join(pools)
    chars += [secrets.choice(alphabet) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    password = "".join(chars[:length])
    template = spec.get("SecretStringTemplate")
    if template is None:
        return password
    document = json.loads(template)
    document[spec["GenerateStringKey"]] = password
    return json.dumps(document)


def _secret(context: _Context, resource: ResourceSpec, properties: dict[str, Any]) -> tuple[str, dict[str, str]]:
    name = properties.get("Name") or physical_name(context.prefix, resource.logical_id, max_length=512)
    _warn_unapplied(
        resource,
        properties,
        {"Name", "Description", "KmsKeyId", "SecretString", "GenerateSecretString", "Tags"},
    )
    client = context.backend.client("secretsmanager")
    request: dict[str, Any] = {"Name": name, **_pick(properties, {"Description", "KmsKeyId", "Tags"})}
    if "SecretString" in properties:
        request["SecretString"] = properties["SecretString"]
    else:
        request["SecretString"] = generate_secret_value(properties.get("GenerateSecretString") or {})
    try:
        arn = client.create_secret(**request)["ARN"]
    except ClientError as error:
        if _error_code(error) != "ResourceExistsException":
            raise
        # A persistent backend keeps the old value, so tokens it signed stay valid.
        log.info("secret %s exists already; keeping its value", name)
        arn = client.describe_secret(SecretId=name)["ARN"]
    return arn, {"Id": arn}


def _state_machine(context: _Context, resource: ResourceSpec, properties: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """Created through the API with the substitutions applied here: moto's CloudFormation would
    hide the machine from its interpreter and ignore DefinitionSubstitutions."""
    definition = (context.resources.template.root / str(properties["DefinitionUri"])).read_text(encoding="utf-8")
    for name, value in (properties.get("DefinitionSubstitutions") or {}).items():
        definition = definition.replace(f"${{{name}}}", _attribute_text(value))
    _warn_unapplied(resource, properties, {"DefinitionUri", "DefinitionSubstitutions", "Type", "Policies", "Tracing"})
    name = physical_name(context.prefix, resource.logical_id, max_length=80)
    arn = context.backend.client("stepfunctions").create_state_machine(
        name=name,
        definition=definition,
        roleArn=context.arn("iam", f"role/{name}", region=False),
        type=str(properties.get("Type", "STANDARD")),
    )["stateMachineArn"]
    return arn, {"Arn": arn, "Name": name}


_PROVISIONERS: dict[str, Provisioner] = {
    "AWS::Serverless::StateMachine": _state_machine,
    DYNAMODB_TABLE: _table,
    USER_POOL: _user_pool,
    USER_POOL_CLIENT: _user_pool_client,
    USER_POOL_GROUP: _user_pool_group,
    SQS_QUEUE: _queue,
    SNS_TOPIC: _topic,
    SNS_SUBSCRIPTION: _subscription,
    S3_BUCKET: _bucket,
    SECRET: _secret,
}
