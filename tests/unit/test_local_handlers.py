"""Loading handlers from their CodeUri and running them like Lambda, all in one process."""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from infra.local.handlers import (
    EnvironmentConflictError,
    HandlerLoadError,
    LambdaContext,
    LambdaRuntime,
    LocalFunction,
    load_functions,
    load_handler,
    merge_environments,
    module_name,
)
from infra.local.template import load_yaml, parse_template

pytestmark = pytest.mark.unit


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_environments_merge_when_they_agree() -> None:
    merged = merge_environments({"A": {"TABLE": "t", "ONLY_A": "1"}, "B": {"TABLE": "t", "ONLY_B": "2"}})
    assert merged == {"TABLE": "t", "ONLY_A": "1", "ONLY_B": "2"}


def test_a_conflicting_variable_names_both_functions() -> None:
    with pytest.raises(EnvironmentConflictError) as raised:
        merge_environments({"AuthFunction": {"LOG_LEVEL": "INFO"}, "ChatFunction": {"LOG_LEVEL": "DEBUG"}})
    message = str(raised.value)
    assert "LOG_LEVEL" in message and "AuthFunction" in message and "ChatFunction" in message


def test_two_app_py_files_load_apart_with_their_own_siblings(tmp_path: Path) -> None:
    # Given two functions whose files are both app.py, each importing its own helpers.py
    for name in ("one", "two"):
        _write(tmp_path / name / "helpers.py", f"WHO = {name!r}\n")
        _write(
            tmp_path / name / "app.py",
            "import helpers\n\ndef lambda_handler(event, context):\n    return helpers.WHO\n",
        )
    # When both are loaded
    first = load_handler(tmp_path / "one", "app.lambda_handler", "test_local_fn_one")
    second = load_handler(tmp_path / "two", "app.lambda_handler", "test_local_fn_two")
    # Then each sees its own sibling, and neither leaks under the plain name
    assert (first({}, None), second({}, None)) == ("one", "two")
    assert "helpers" not in sys.modules
    assert str(tmp_path / "one") not in sys.path


def test_missing_handlers_are_reported(tmp_path: Path) -> None:
    _write(tmp_path / "fn" / "app.py", "x = 1\n")
    with pytest.raises(HandlerLoadError, match="no callable"):
        load_handler(tmp_path / "fn", "app.lambda_handler", "test_local_fn_missing")
    with pytest.raises(HandlerLoadError, match="does not exist"):
        load_handler(tmp_path / "fn", "other.lambda_handler", "test_local_fn_other")


def test_load_functions_reads_code_uri_handler_and_layers(tmp_path: Path) -> None:
    # Given a template with a layer folder and a function that imports from it
    _write(tmp_path / "layer" / "sharedlib_for_test.py", "VALUE = 42\n")
    _write(
        tmp_path / "functions" / "calc" / "main.py",
        "import sharedlib_for_test\n\ndef handle(event, context):\n    return sharedlib_for_test.VALUE\n",
    )
    document = load_yaml(
        """
        Resources:
          Layer: {Type: AWS::Serverless::LayerVersion, Properties: {ContentUri: layer/}}
          Calc:
            Type: AWS::Serverless::Function
            Properties:
              {CodeUri: functions/calc/, Handler: main.handle, Layers: [!Ref Layer], MemorySize: 256}
        """
    )
    template = parse_template(document, tmp_path)
    # When its handlers are loaded
    functions = load_functions(template, {"Calc": "calc-fn"}, {"Calc": "arn:calc"})
    # Then the function runs with the layer importable, under its unique module name
    assert functions["Calc"].handler({}, None) == 42
    assert functions["Calc"].memory_mb == 256
    assert module_name("Calc") in sys.modules


def _function(handler: Any, timeout: int = 3) -> LocalFunction:
    return LocalFunction("Fn", "shopdesk-test-Fn", "arn:aws:lambda:r:1:function:x", 512, timeout, handler)


def test_context_looks_like_lambdas() -> None:
    context = LambdaContext(_function(lambda event, context: None, timeout=28))
    assert context.function_name == "shopdesk-test-Fn"
    assert context.invoked_function_arn == "arn:aws:lambda:r:1:function:x"
    assert context.memory_limit_in_mb == 512
    assert len(context.aws_request_id) == 36
    assert 27_000 < context.get_remaining_time_in_millis() <= 28_000


def test_runtime_invokes_in_worker_threads_and_propagates_errors() -> None:
    # Given handlers that report their thread, and one that fails
    def where(event: Any, context: Any) -> str:
        return threading.current_thread().name

    def fail(event: Any, context: Any) -> None:
        raise ValueError("bad input")

    runtime = LambdaRuntime({"Where": _function(where), "Fail": _function(fail)}, concurrency=2)

    async def scenario() -> str:
        with pytest.raises(ValueError, match="bad input"):
            await runtime.invoke("Fail", {})
        return str(await runtime.invoke("Where", {}))

    try:
        # When invoked, Then they ran in the pool, not on the event loop's thread
        assert asyncio.run(scenario()).startswith("lambda")
    finally:
        runtime.shutdown()


def test_concurrent_calls_never_share_an_execution_environment() -> None:
    # Given a handler that keeps per-request state on its module, as Powertools' resolvers do
    started = threading.Barrier(3)
    instances: list[dict[str, Any]] = []

    def spawn(number: int) -> Any:
        state: dict[str, Any] = {}
        instances.append(state)

        def handler(event: Any, context: Any) -> Any:
            state["event"] = event
            started.wait(timeout=5)
            return state["event"]

        return handler

    function = LocalFunction("Fn", "fn", "arn", 128, 3, spawn(1), spawn)
    runtime = LambdaRuntime({"Fn": function}, concurrency=3)

    async def scenario() -> list[Any]:
        return list(await asyncio.gather(*(runtime.invoke("Fn", n) for n in range(3))))

    try:
        # When three calls overlap, Then each answers its own event, from its own environment
        assert asyncio.run(scenario()) == [0, 1, 2]
        assert len(instances) == 3
    finally:
        runtime.shutdown()
