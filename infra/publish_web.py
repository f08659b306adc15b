"""Publishes web/ to a deployed store's bucket, with the config.js its stack outputs describe.

Run after `sam deploy`: .venv/bin/python -m infra.publish_web --stack shopdesk-mystore
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import time
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[1]
NO_CACHE = {".html", ".js", ".css"}


def stack_outputs(cloudformation: object, stack: str) -> dict[str, str]:
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]  # type: ignore[attr-defined]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def config_script(outputs: dict[str, str], store_id: str, store_name: str) -> str:
    config = {
        "apiUrl": outputs["RestApiUrl"],
        "wsUrl": outputs["WebSocketUrl"],
        "storeId": store_id,
        "storeName": store_name,
    }
    return f"window.SHOPDESK_CONFIG = {json.dumps(config, ensure_ascii=False)};\n"


def publish(stack: str) -> str:
    session = boto3.session.Session()
    cloudformation = session.client("cloudformation")
    outputs = stack_outputs(cloudformation, stack)
    parameters = {
        p["ParameterKey"]: p["ParameterValue"]
        for p in cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["Parameters"]
    }
    s3 = session.client("s3")
    bucket = outputs["WebBucketName"]
    for path in sorted((ROOT / "web").rglob("*")):
        if path.is_file():
            key = path.relative_to(ROOT / "web").as_posix()
            s3.upload_file(str(path), bucket, key, ExtraArgs=_headers(path))
    body = config_script(outputs, parameters["StoreId"], parameters["StoreName"]).encode()
    s3.put_object(Bucket=bucket, Key="config.js", Body=body, ContentType="text/javascript", CacheControl="no-cache")
    distribution = outputs["WebUrl"].removeprefix("https://")
    cloudfront = session.client("cloudfront")
    for item in cloudfront.list_distributions()["DistributionList"].get("Items", []):
        if item["DomainName"] == distribution:
            cloudfront.create_invalidation(
                DistributionId=item["Id"],
                InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": str(time.time())},
            )
    return outputs["WebUrl"]


def _headers(path: Path) -> dict[str, str]:
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    cache = "no-cache" if path.suffix in NO_CACHE else "public, max-age=86400"
    return {"ContentType": content_type, "CacheControl": cache}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help="the CloudFormation stack name used with sam deploy")
    print(f"published: {publish(parser.parse_args().stack)}")
