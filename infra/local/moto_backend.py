"""moto server, with DynamoDB requests handled one at a time.

moto rolls a failed TransactWriteItems back by restoring a deep copy of every table, taken when
the transaction began; with threaded requests that copy can erase other requests' writes, or fail
with "dictionary changed size during iteration". DynamoDB itself settles each item atomically,
so serialising DynamoDB calls keeps its semantics while other services (SQS long polls) stay
concurrent. Run: python -m infra.local.moto_backend -H 127.0.0.1 -p 4001
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.threaded_moto_server import MotoRequestHandler
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def serialise_dynamodb(app: WsgiApp) -> WsgiApp:
    lock = threading.Lock()

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return app(environ, start_response)
        with lock:
            # Drain the body inside the lock: the response is built lazily by some backends.
            return list(app(environ, start_response))

    return wrapped


def make_backend(host: str, port: int) -> BaseWSGIServer:
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
