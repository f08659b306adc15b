"""Creates a deployed store's first admin (login and profile), through the same service the admin API uses.

Run after `sam deploy`:
  .venv/bin/python -m infra.create_admin --stack shopdesk-mystore --username boss --name 店长 --password '...'
"""

from __future__ import annotations

import argparse
import getpass
import os

import boto3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--password", help="asked for when left out")
    args = parser.parse_args()
    stack = boto3.client("cloudformation").describe_stacks(StackName=args.stack)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    os.environ.update(
        STORE_ID=parameters["StoreId"],
        STORE_NAME=parameters["StoreName"],
        TABLE_NAME=outputs["TableName"],
        USER_POOL_ID=outputs["UserPoolId"],
        USER_POOL_CLIENT_ID=outputs["UserPoolClientId"],
        STORE_SECRET_ID=outputs["StoreSecretArn"],
        UPLOADS_BUCKET="unused",
        REMINDER_QUEUE_URL="unused",
        WS_CALLBACK_URL=outputs["WebSocketUrl"].replace("wss://", "https://"),
    )
    from shopdesk.container import Container

    password = args.password or getpass.getpass("password: ")
    admin = Container().staff.create(args.username, args.name, password, "admin", [], 1, 1)
    print(f"created admin {admin.username} ({admin.agent_id})")


if __name__ == "__main__":
    main()
