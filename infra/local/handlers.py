"""Loads the functions' handlers from their CodeUri and runs them the way Lambda would, in-process.

Every function file is called ``app.py``, so each is imported under its own module name. All
functions share one process and therefore one ``os.environ``: it is the union of their resolved
environments, and two functions that need different values for one variable cannot share it.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from infra.local.template import Template

log = logging.getLogger(__name__)

Handler = Callable[[Any, Any], Any]

DEFAULT_CONCURRENCY = 16


class EnvironmentConflictError(ValueError):
    """Two functions need different values for one environment variable."""


class HandlerLoadError(ImportError):
    """A function's handler cannot be found or imported."""


def merge_environments(environments: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """The union of the functions' environments; a variable with two values is an error naming both."""
    merged: dict[str, str] = {}
    owner: dict[str, str] = {}
    for function_id, environment in environments.items():
        for name, value in environment.items():
            if name in merged and merged[name] != value:
                raise EnvironmentConflictError(
                    f"{name} is {merged[name]!r} for {owner[name]} but {value!r} for {function_id}; "
                    "functions that share the local process must agree on it"
                )
            merged[name] = value
            owner.setdefault(name, function_id)
    return merged


def module_name(function_id: str) -> str:
    return f"shopdesk_local_fn_{function_id.lower()}"


def load_handler(code_dir: Path, handler: str, name: str) -> Handler:
    """Import ``handler`` (``module.function``, e.g. ``app.lambda_handler``) from ``code_dir``.

    The module is registered as ``name`` so that functions whose files share a name stay apart.
    Like Lambda, ``code_dir`` is on sys.path while the module loads, so top-level imports of its
    sibling files work; those siblings are then dropped from sys.modules, so another function's
    file of the same name is not mistaken for them.
    """
    with _LOADING:
        return _load_handler(code_dir.resolve(), handler, name)


# Copies of one function load in parallel when requests arrive together; one copy's clean-up of
# sys.modules must not remove another copy's module while it is still executing.
_LOADING = threading.Lock()


def _load_handler(code_dir: Path, handler: str, name: str) -> Handler:
    module_path, dot, attribute = handler.rpartition(".")
    if not dot or not module_path:
        raise HandlerLoadError(f"Handler {handler!r} must be module.function")
    source = code_dir / (module_path.replace(".", "/") + ".py")
    if not source.is_file():
        raise HandlerLoadError(f"{source} does not exist (Handler {handler!r})")
    spec = importlib.util.spec_from_file_location(name, source)
    if spec is None or spec.loader is None:
        raise HandlerLoadError(f"cannot import {source}")
    module: ModuleType = importlib.util.module_from_spec(spec)
    before = set(sys.modules)
    sys.modules[name] = module
    sys.path.insert(0, str(code_dir))
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    finally:
        sys.path.remove(str(code_dir))
        for loaded in set(sys.modules) - before - {name}:
            file = getattr(sys.modules[loaded], "__file__", None)
            if file and Path(file).resolve().is_relative_to(code_dir):
                del sys.modules[loaded]
    function = getattr(module, attribute, None)
    if not callable(function):
        raise HandlerLoadError(f"{source} has no callable {attribute!r}")
    return function  # type: ignore[no-any-return]


@dataclass(frozen=True)
class LocalFunction:
    logical_id: str
    name: str
    arn: str
    memory_mb: int
    timeout_s: int
    handler: Handler
    # Imports another copy of the handler module: a new execution environment for concurrent calls.
    spawn: Callable[[int], Handler] | None = None


def load_functions(
    template: Template,
    names: Mapping[str, str],
    arns: Mapping[str, str],
    function_ids: list[str] | None = None,
) -> dict[str, LocalFunction]:
    """Import the handlers of ``function_ids`` (default: all), after the process env is set.

    The template's layer folders go on sys.path first, as Lambda mounts layers under /opt.
    """
    functions: dict[str, LocalFunction] = {}
    for function_id in function_ids if function_ids is not None else list(template.functions):
        spec = template.functions[function_id]
        if spec.code_uri is None or spec.handler is None:
            raise HandlerLoadError(f"{function_id}: the local stack needs a local CodeUri folder and a Handler")
        for layer_dir in template.layer_dirs(function_id):
            if str(layer_dir) not in sys.path:
                sys.path.append(str(layer_dir))
        code_dir = (template.root / spec.code_uri).resolve()
        handler_path, base_name = spec.handler, module_name(function_id)
        functions[function_id] = LocalFunction(
            logical_id=function_id,
            name=names[function_id],
            arn=arns[function_id],
            memory_mb=spec.memory_size,
            timeout_s=spec.timeout,
            handler=load_handler(code_dir, handler_path, base_name),
            spawn=lambda n, d=code_dir, h=handler_path, b=base_name: load_handler(d, h, f"{b}_{n}"),
        )
    return functions


class _Environments:
    """A function's execution environments. Like Lambda, each serves one invocation at a time
    (handlers may keep per-request state on module globals, as Powertools' resolvers do), and a
    new one starts when all are busy."""

    def __init__(self, function: LocalFunction) -> None:
        self._function = function
        self._idle = [function.handler]
        self._started = 1
        self._free = threading.Condition()

    def acquire(self) -> Handler:
        with self._free:
            while not self._idle and self._function.spawn is None:
                self._free.wait()
            if self._idle:
                return self._idle.pop()
            self._started += 1
            number = self._started
        assert self._function.spawn is not None
        return self._function.spawn(number)

    def release(self, handler: Handler) -> None:
        with self._free:
            self._idle.append(handler)
            self._free.notify()


class LambdaContext:
    """The context object the Python Lambda runtime passes as the handler's second argument."""

    def __init__(self, function: LocalFunction) -> None:
        self.function_name = function.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function.arn
        self.memory_limit_in_mb = function.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function.name}"
        self.log_stream_name = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + function.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class LambdaRuntime:
    """Invokes handlers in a thread pool, the local stand-in for Lambda's concurrent environments."""

    def __init__(self, functions: Mapping[str, LocalFunction], concurrency: int = DEFAULT_CONCURRENCY) -> None:
        self.functions = dict(functions)
        self._environments = {function_id: _Environments(f) for function_id, f in self.functions.items()}
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="lambda")

    def _call(self, function_id: str, event: Any) -> Any:
        function = self.functions[function_id]
        context = LambdaContext(function)
        environments = self._environments[function_id]
        handler = environments.acquire()
        started = time.monotonic()
        try:
            return handler(event, context)
        finally:
            environments.release(handler)
            elapsed = time.monotonic() - started
            log.debug("%s %s took %.0f ms", function.logical_id, context.aws_request_id, elapsed * 1000)
            if elapsed > function.timeout_s:
                # Lambda would have killed it; a thread cannot be killed, so say so loudly.
                log.warning("%s ran %.1f s, past its %d s Timeout", function.logical_id, elapsed, function.timeout_s)

    async def invoke(self, function_id: str, event: Any) -> Any:
        """Run the handler and return its result; its exception propagates as Lambda reports it."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._call, function_id, event)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
