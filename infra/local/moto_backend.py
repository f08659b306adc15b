"""moto server, with DynamoDB requests handled one at a time and cheaper transaction backups.

moto rolls a failed TransactWriteItems back by restoring a deep copy of the tables, taken when
the transaction began; with threaded requests that copy can erase other requests' writes, or fail
with "dictionary changed size during iteration". DynamoDB itself settles each item atomically,
so serialising DynamoDB calls keeps its semantics while other services (SQS long polls) stay
concurrent.

That backup also made every transaction cost O(table size) several times over: moto copies the
table once per item of the transaction, stream history included. Here each table is copied once
per transaction, and stream records (never changed once written) are shared by the copy.
Run: python -m infra.local.moto_backend -H 127.0.0.1 -p 4001
"""

from __future__ import annotations

import argparse
import copy
import json
import threading
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any

import moto.dynamodb.models as dynamodb_models
import requests
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import StreamShard, Table
from moto.moto_server.threaded_moto_server import MotoRequestHandler
from moto.server import DomainDispatcherApplication, create_backend_app
from moto.sns.models import Subscription
from werkzeug.serving import BaseWSGIServer, make_server

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _OneCopyPerTransaction:
    """Stands in for the `copy` module inside moto's DynamoDB backend."""

    def __init__(self) -> None:
        self.copies: dict[int, Any] | None = None

    def copy(self, value: Any) -> Any:
        return copy.copy(value)

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        if self.copies is None or not isinstance(value, Table):
            return copy.deepcopy(value, memo)
        if id(value) not in self.copies:
            self.copies[id(value)] = copy.deepcopy(value, memo)
        return self.copies[id(value)]


def _share_stream_records(shard: StreamShard, memo: dict[int, Any]) -> StreamShard:
    clone = copy.copy(shard)
    clone.items = list(shard.items)
    return clone


def cheaper_transaction_backups() -> None:
    if isinstance(getattr(dynamodb_models, "copy", None), _OneCopyPerTransaction):
        return
    copies = _OneCopyPerTransaction()
    dynamodb_models.copy = copies  # type: ignore[attr-defined]
    StreamShard.__deepcopy__ = _share_stream_records  # type: ignore[attr-defined]
    transact = DynamoDBBackend.transact_write_items

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        copies.copies = {}
        try:
            transact(self, transact_items)
        finally:
            copies.copies = None

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def serialise_dynamodb(app: WsgiApp) -> WsgiApp:
    lock = threading.Lock()

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return app(environ, start_response)
        with lock:
            # Drain the body inside the lock: the response is built lazily by some backends.
            return list(app(environ, start_response))

    return wrapped


def sns_http_notifications_with_attributes() -> None:
    """moto posts HTTP(S) notifications without their MessageAttributes (and without SNS's x-amz-sns-*
    headers), though it filters on them; SNS and LocalStack send both, and SNS-triggered handlers read them."""
    if getattr(Subscription.publish, "with_attributes", False):
        return
    publish = Subscription.publish

    def with_attributes(
        self: Subscription,
        message: str,
        message_id: str,
        subject: str | None = None,
        message_attributes: dict[str, Any] | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        message_structure: str | None = None,
    ) -> None:
        if self.protocol not in ("http", "https"):
            publish(
                self, message, message_id, subject, message_attributes, group_id, deduplication_id, message_structure
            )
            return
        matcher = self._filter_policy_matcher
        if matcher is not None and not matcher.matches(message_attributes, message):
            return
        if message_structure == "json":
            message = self._parse_message_structure(message, self.protocol)
        requests.post(
            self.endpoint,
            json=self.get_post_data(message, message_id, subject, message_attributes=message_attributes),
            headers={
                "Content-Type": "text/plain; charset=UTF-8",
                "x-amz-sns-message-type": "Notification",
                "x-amz-sns-message-id": message_id,
                "x-amz-sns-topic-arn": self.topic.arn,
                "x-amz-sns-subscription-arn": self.arn,
            },
            timeout=30,
        )

    with_attributes.with_attributes = True  # type: ignore[attr-defined]
    Subscription.publish = with_attributes  # type: ignore[method-assign]


def enable_step_functions(url: str) -> None:
    """moto runs real ASL only when asked, for machines created afterwards; its service tasks then
    call back on MOTO_PORT."""
    request = urllib.request.Request(
        f"{url}/moto-api/config",
        data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5):
        pass


def make_backend(host: str, port: int) -> BaseWSGIServer:
    cheaper_transaction_backups()
    sns_http_notifications_with_attributes()
    app = serialise_dynamodb(DomainDispatcherApplication(create_backend_app))
    return make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)


class BackgroundBackend:
    """moto in a thread of this process, for tests."""

    def __init__(self, host: str, port: int) -> None:
        self.server = make_backend(host, port)
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> BackgroundBackend:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=4001)
    args = parser.parse_args()
    make_backend(args.host, args.port).serve_forever()


if __name__ == "__main__":
    main()
