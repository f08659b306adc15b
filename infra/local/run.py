"""``make run``: the whole ShopDesk stack on this machine, without Docker.

moto (or LocalStack) plays AWS; the real Lambda handlers run in this process behind the local
API Gateway; schedules and SQS and SNS sources are driven from here; the web app is served next to it.
Everything it creates is read from template.yaml.

    python -m infra.local.run [--backend moto|localstack] [--ready-file PATH] [--no-seed] ...
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unicodedata
import urllib.error
import urllib.request
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.loaders
import botocore.session
from aiohttp import web
from localstack_client.config import get_service_endpoint

from infra.local.events import ScheduleRunner, SnsSource, SqsPoller, schedule_bindings, sns_bindings, sqs_bindings
from infra.local.gateway import Gateway, GatewaySettings, create_web_app
from infra.local.handlers import EnvironmentConflictError, LambdaRuntime, load_functions, merge_environments
from infra.local.moto_backend import enable_step_functions
from infra.local.provision import DEFAULT_REGION, DUMMY_CREDENTIALS, Backend, Resources
from infra.local.template import Template, TemplateError, load_template

log = logging.getLogger("shopdesk.local")

REPO_ROOT = Path(__file__).resolve().parents[2]


class StartupError(RuntimeError):
    """The stack cannot start; the message says what to do about it."""


@dataclass(frozen=True)
class Settings:
    backend: str
    host: str
    web_port: int
    api_port: int
    moto_port: int
    store_id: str
    store_name: str
    alert_email: str
    region: str
    template: Path
    web_root: Path
    ready_file: Path | None
    seed: bool
    schedule_scale: float
    concurrency: int
    log_level: str

    @property
    def public_host(self) -> str:
        """The host to put in URLs: a wildcard bind address is reachable on loopback."""
        return "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host


def parse_args(argv: Sequence[str] | None = None, environ: Mapping[str, str] = os.environ) -> Settings:
    """Command-line options; each defaults to a SHOPDESK_* environment variable, then to a constant."""

    def env(name: str, default: str) -> str:
        return environ.get(f"SHOPDESK_{name}", default)

    parser = argparse.ArgumentParser(prog="python -m infra.local.run", description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("moto", "localstack"), default=env("BACKEND", "moto"))
    parser.add_argument("--host", default=env("HOST", "127.0.0.1"))
    parser.add_argument("--web-port", type=int, default=int(env("WEB_PORT", "3000")))
    parser.add_argument("--api-port", type=int, default=int(env("API_PORT", "3001")))
    parser.add_argument("--moto-port", type=int, default=int(env("MOTO_PORT", "4001")))
    parser.add_argument("--store-id", default=env("STORE_ID", "demo"))
    parser.add_argument("--store-name", default=env("STORE_NAME", "ShopDesk 演示店"))
    parser.add_argument("--alert-email", default=env("ALERT_EMAIL", "supervisor@example.com"))
    parser.add_argument(
        "--region", default=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    )
    parser.add_argument("--template", type=Path, default=Path(env("TEMPLATE", str(REPO_ROOT / "template.yaml"))))
    parser.add_argument("--web-root", type=Path, default=Path(env("WEB_ROOT", str(REPO_ROOT / "web"))))
    parser.add_argument(
        "--ready-file",
        type=Path,
        default=Path(environ["SHOPDESK_READY_FILE"]) if environ.get("SHOPDESK_READY_FILE") else None,
        help="write the URLs and logins here as JSON once the stack is up",
    )
    parser.add_argument(
        "--no-seed",
        action="store_true",
        default=env("NO_SEED", "") not in ("", "0", "false"),
        help="start with an empty store",
    )
    parser.add_argument(
        "--schedule-scale",
        type=float,
        default=float(env("SCHEDULE_SCALE", "1")),
        help="multiply rate() intervals, e.g. 0.1 to sweep every 6 s instead of every minute",
    )
    parser.add_argument("--concurrency", type=int, default=int(env("CONCURRENCY", "16")))
    parser.add_argument("--log-level", default=env("LOG_LEVEL", "INFO"))
    args = parser.parse_args(argv)
    if args.schedule_scale <= 0:
        parser.error("--schedule-scale must be positive")
    return Settings(
        backend=args.backend,
        host=args.host,
        web_port=args.web_port,
        api_port=args.api_port,
        moto_port=args.moto_port,
        store_id=args.store_id,
        store_name=args.store_name,
        alert_email=args.alert_email,
        region=args.region,
        template=args.template.resolve(),
        web_root=args.web_root.resolve(),
        ready_file=args.ready_file,
        seed=not args.no_seed,
        schedule_scale=args.schedule_scale,
        concurrency=args.concurrency,
        log_level=args.log_level.upper(),
    )


# --------------------------------------------------------------------------- backends


def _ensure_port_free(host: str, port: int, option: str) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise StartupError(
                f"port {port} on {host} is busy ({error.strerror}); choose another with {option}"
            ) from None


def _get(url: str, timeout: float) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return bytes(response.read())


class MotoProcess:
    """moto server as a child process, so its request threads never compete with the gateway's loop.

    It is infra.local.moto_backend, moto's server with DynamoDB requests serialised, because the
    handlers' concurrent transactions would otherwise corrupt moto's tables.
    """

    def __init__(self, host: str, port: int) -> None:
        self.url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::', '') else host}:{port}"
        self._command = [sys.executable, "-m", "infra.local.moto_backend", "-H", host, "-p", str(port)]
        # moto's Step Functions interpreter calls its service tasks back on localhost:$MOTO_PORT.
        self._env = {**os.environ, "MOTO_PORT": str(port)}
        self.log_path = Path(tempfile.gettempdir()) / f"shopdesk-moto-{port}.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        with self.log_path.open("wb") as log_file:
            # A session of its own: Ctrl-C in the terminal reaches us, and we stop moto cleanly.
            self._process = subprocess.Popen(
                self._command,
                cwd=REPO_ROOT,
                env=self._env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-800:]
                raise StartupError(f"moto server exited with {self._process.returncode}:\n{tail}")
            try:
                _get(f"{self.url}/moto-api/data.json", timeout=1)
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        raise StartupError(f"moto server did not answer at {self.url} within {timeout:.0f} s (log: {self.log_path})")

    def enable_step_functions(self) -> None:
        enable_step_functions(self.url)

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def localstack_endpoint() -> str:
    """LocalStack's edge URL, as localstack-client resolves it (LOCALSTACK_HOST, default localhost:4566)."""
    endpoint = get_service_endpoint("edge")
    if endpoint is None:
        raise StartupError("localstack-client could not resolve LocalStack's endpoint")
    try:
        _get(f"{endpoint}/_localstack/health", timeout=3)
    except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
        raise StartupError(
            f"LocalStack does not answer at {endpoint} ({error}).\n"
            "Start LocalStack first: `localstack start -d`, or "
            "`docker run -d -p 4566:4566 localstack/localstack`;\n"
            "set LOCALSTACK_HOST=host:port if it runs elsewhere."
        ) from None
    return str(endpoint)


# --------------------------------------------------------------------------- environment


def runtime_environment(settings: Settings, backend_url: str, moto: MotoProcess) -> dict[str, str]:
    """What the Lambda runtime and the deployment would give every function, pointed at local AWS."""
    environment = {
        "AWS_ENDPOINT_URL": backend_url,
        "AWS_REGION": settings.region,
        "AWS_DEFAULT_REGION": settings.region,
        "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIALS["aws_secret_access_key"],
        # Otherwise botocore may derive account-based DynamoDB endpoints that ignore the override.
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "AWS_XRAY_SDK_ENABLED": "false",
        "MOTO_PORT": str(settings.moto_port),
    }
    if settings.backend == "localstack":
        # LocalStack's community edition has no Cognito: botocore sends only that service to moto.
        environment["AWS_ENDPOINT_URL_COGNITO_IDP"] = moto.url
    return environment


def function_environments(resources: Resources, overrides: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Each function's resolved environment, with ``overrides`` applied where it sets the variable."""
    environments = {}
    for function_id, spec in resources.template.functions.items():
        applicable = {name: value for name, value in overrides.items() if name in spec.environment}
        environments[function_id] = resources.function_environment(function_id, applicable)
    return environments


def template_parameters(template: Template, settings: Settings) -> dict[str, str]:
    wanted = {
        "StoreId": settings.store_id,
        "StoreName": settings.store_name,
        "AlertEmail": settings.alert_email,
    }
    return {name: value for name, value in wanted.items() if name in template.parameters}


async def provision_in_child(
    settings: Settings, template: Template, endpoint: str, service_endpoints: Mapping[str, str] | None
) -> Resources:
    """``provision`` in infra.local.provision_step, so that its clients and models leave with it."""
    request = {
        "template": str(settings.template),
        "endpoint": endpoint,
        "params": template_parameters(template, settings),
        "region": settings.region,
        "service_endpoints": service_endpoints,
        "log_level": settings.log_level,
    }
    # A session of its own, as for moto: Ctrl-C stops the stack once it is up, not provisioning half-way.
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "infra.local.provision_step",
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    output, _ = await child.communicate(json.dumps(request).encode())
    if child.returncode == 0:
        return Resources.from_json(template, output.decode())
    if output:
        raise TemplateError(json.loads(output)["error"])
    raise StartupError(f"provisioning failed with exit status {child.returncode}; its error is above")


async def seed_in_child(environment: Mapping[str, str]) -> list[dict[str, str]]:
    """The demo store, seeded by infra.local.seed in a process of its own: the knowledge-base import
    and index build it runs would otherwise stay in this process's peak memory."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "infra.local.seed",
        cwd=REPO_ROOT,
        env={**os.environ, **environment, "PYTHONPATH": str(REPO_ROOT / "layers/shopdesk")},
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    output, _ = await child.communicate()
    if child.returncode != 0:
        raise StartupError(f"seeding the demo store failed with exit status {child.returncode}; its error is above")
    # Its last line: anything the services log to stdout comes before it.
    logins: list[dict[str, str]] = json.loads(output.decode().strip().splitlines()[-1])
    return logins


# --------------------------------------------------------------------------- output


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def format_table(rows: Sequence[Mapping[str, str]], columns: Sequence[str]) -> str:
    """A plain-text table that stays aligned with Chinese names in it."""
    widths = {column: max([_width(column), *(_width(str(row.get(column, ""))) for row in rows)]) for column in columns}

    def line(values: Mapping[str, str]) -> str:
        cells = [str(values.get(column, "")) for column in columns]
        return "  ".join(
            cell + " " * (widths[column] - _width(cell)) for cell, column in zip(cells, columns, strict=True)
        )

    return "\n".join([line({column: column for column in columns}), *(line(row) for row in rows)])


def write_ready_file(path: Path, info: Mapping[str, Any]) -> None:
    """Written whole, then renamed, so that a test polling for it never reads half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(info, ensure_ascii=False, indent=2), encoding="utf-8")
    partial.replace(path)


def _first_ref(resources: Resources, specs: Sequence[Any]) -> str | None:
    return resources.refs.get(specs[0].logical_id) if specs else None


# --------------------------------------------------------------------------- the stack


async def _start_site(app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(app, shutdown_timeout=5.0)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Start everything, wait for ``stop``, then take everything down again."""
    template = load_template(settings.template)
    for event in template.unsupported_events:
        log.warning("%s.%s (%s) is not driven by the local stack", event.function, event.event, event.type)
    for port, option in ((settings.api_port, "--api-port"), (settings.web_port, "--web-port")):
        _ensure_port_free(settings.host, port, option)
    _ensure_port_free(settings.host, settings.moto_port, "--moto-port")

    moto = MotoProcess(settings.host, settings.moto_port)
    runners: list[web.AppRunner] = []
    tasks: list[asyncio.Task[None]] = []
    runtime: LambdaRuntime | None = None
    subscribed: list[SnsSource] = []
    try:
        await asyncio.to_thread(moto.start)
        moto.enable_step_functions()
        backend_url = await asyncio.to_thread(localstack_endpoint) if settings.backend == "localstack" else moto.url

        base_environment = runtime_environment(settings, backend_url, moto)
        os.environ.pop("AWS_PROFILE", None)
        os.environ.pop("AWS_SESSION_TOKEN", None)
        os.environ.update(base_environment)
        resources = await provision_in_child(
            settings,
            template,
            backend_url,
            {"cognito-idp": moto.url} if settings.backend == "localstack" else None,
        )
        gateway_settings = GatewaySettings.from_resources(resources)
        host = settings.public_host
        ws_stage = gateway_settings.websocket_stage or "ws"
        api_url = f"http://{host}:{settings.api_port}/{gateway_settings.rest_stage}"
        ws_url = f"ws://{host}:{settings.api_port}/{ws_stage}"
        callback_url = f"http://{host}:{settings.api_port}/{ws_stage}"
        function_env = merge_environments(function_environments(resources, {"WS_CALLBACK_URL": callback_url}))
        os.environ.update(function_env)
        handler_environment = {**base_environment, **function_env}

        functions = load_functions(
            template,
            {function_id: resources.function_name(function_id) for function_id in template.functions},
            {function_id: resources.function_arn(function_id) for function_id in template.functions},
        )
        logins = await seed_in_child(handler_environment) if settings.seed else []

        runtime = LambdaRuntime(functions, settings.concurrency)
        schedules = ScheduleRunner(
            schedule_bindings(resources),
            runtime,
            region=resources.region,
            account_id=resources.account_id,
            scale=settings.schedule_scale,
        )
        sqs = Backend(backend_url, resources.region).client("sqs")
        pollers = [
            SqsPoller(binding, runtime, sqs, resources.region)
            for binding in sqs_bindings(resources)
            if binding.spec.enabled
        ]
        sns = Backend(backend_url, resources.region).client("sns")
        sns_sources = [SnsSource(binding, runtime, sns) for binding in sns_bindings(resources) if binding.spec.enabled]
        gateway = Gateway(gateway_settings, runtime, schedules=schedules, pollers=pollers, sns_sources=sns_sources)
        runners.append(await _start_site(gateway.app(), settings.host, settings.api_port))
        # Only now: moto posts to the endpoint from inside Publish, and fails the Publish if nobody answers.
        for source in sns_sources:
            await asyncio.to_thread(source.subscribe, f"http://{host}:{settings.api_port}{gateway.sns_path(source)}")
            subscribed.append(source)
        web_config = {
            "apiUrl": api_url,
            "wsUrl": ws_url,
            "storeId": settings.store_id,
            "storeName": settings.store_name,
        }
        runners.append(
            await _start_site(create_web_app(settings.web_root, web_config), settings.host, settings.web_port)
        )
        tasks.append(asyncio.create_task(schedules.run(), name="schedules"))
        tasks.extend(
            asyncio.create_task(poller.run(), name=f"sqs:{poller.binding.spec.function}") for poller in pollers
        )

        web_url = f"http://{host}:{settings.web_port}"
        info = {
            "api_url": api_url,
            "ws_url": ws_url,
            "web_url": web_url,
            "backend": settings.backend,
            "backend_url": backend_url,
            "moto_url": moto.url,
            "region": resources.region,
            "store_id": settings.store_id,
            "store_name": settings.store_name,
            "user_pool_id": _first_ref(resources, template.user_pools),
            "user_pool_client_id": _first_ref(resources, template.user_pool_clients),
            "table_name": _first_ref(resources, template.tables),
            "logins": logins,
        }
        if settings.ready_file is not None:
            write_ready_file(settings.ready_file, info)
        print(_banner(info, settings), flush=True)
        await stop.wait()
        print("\nStopping ShopDesk…", flush=True)
    finally:
        # Before the gateway goes: a topic whose endpoint is gone fails every Publish on moto.
        for source in subscribed:
            try:
                await asyncio.to_thread(source.unsubscribe)
            except Exception:
                log.warning("could not unsubscribe %s.%s from its topic", source.function, source.event_name)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for runner in reversed(runners):
            await runner.cleanup()  # closes WebSockets, which still runs $disconnect
        if runtime is not None:
            await asyncio.to_thread(runtime.shutdown)
        await asyncio.to_thread(moto.stop)
        if settings.ready_file is not None:
            settings.ready_file.unlink(missing_ok=True)


def _banner(info: Mapping[str, Any], settings: Settings) -> str:
    web_url = info["web_url"]
    lines = [
        f"ShopDesk is running ({settings.backend} at {info['backend_url']}).",
        "",
        f"  Shop demo page    {web_url}/shop/",
        f"  Agent workspace   {web_url}/agent/",
        f"  Supervisor view   {web_url}/monitor/",
        f"  REST API          {info['api_url']}",
        f"  WebSocket         {info['ws_url']}",
        f"  moto              {info['moto_url']}",
        "",
    ]
    if info["logins"]:
        lines += ["Demo logins:", format_table(info["logins"], ("role", "username", "password", "name")), ""]
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)


async def _main(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await serve(settings, stop)


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Every boto3 client announces its credentials and endpoint at INFO; that drowns the handlers' logs.
    quiet = logging.DEBUG if level == "DEBUG" else logging.WARNING
    for name in ("botocore", "boto3", "urllib3", "pynamodb"):
        logging.getLogger(name).setLevel(quiet)


def share_botocore_data() -> None:
    """One botocore data loader for every session in this process.

    Each botocore session parses its own copy of endpoints.json (about 7 MB in memory) and of every
    service model it makes a client for. The functions here share one process, and pynamodb opens a
    session besides boto3's, so without this the same read-only data is held once per session.
    """
    botocore.session.create_loader = functools.cache(botocore.loaders.create_loader)


def main(argv: Sequence[str] | None = None) -> int:
    settings = parse_args(argv)
    configure_logging(settings.log_level)
    share_botocore_data()
    # Metrics are disabled locally, so Powertools would warn on every invocation that nothing was published.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    try:
        asyncio.run(_main(settings))
    except (StartupError, TemplateError, EnvironmentConflictError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # Only reachable before the signal handlers are installed.
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
