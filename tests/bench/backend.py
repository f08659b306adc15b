"""A moto backend in this process with the stack provisioned from template.yaml, for in-process benches."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.e2e.wire import free_port

ROOT = Path(__file__).resolve().parents[2]


def provisioned_backend(function_id: str, step_functions: bool = False) -> tuple[Any, Any]:
    """The backend and its resources; the environment is set as `function_id`'s would be."""
    from infra.local.moto_backend import BackgroundBackend, enable_step_functions
    from infra.local.provision import provision
    from infra.local.template import load_template

    port = free_port()
    backend = BackgroundBackend("127.0.0.1", port).start()
    if step_functions:
        enable_step_functions(backend.url)  # before provisioning: the machine must live in the executing backend
    os.environ.update(
        MOTO_PORT=str(port),
        AWS_ENDPOINT_URL=backend.url,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="ap-southeast-1",
        AWS_REGION="ap-southeast-1",
        AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
        POWERTOOLS_METRICS_DISABLED="true",
        LOG_LEVEL="ERROR",
    )
    template = load_template(ROOT / "template.yaml")
    params = {"StoreId": "bench", "StoreName": "Bench", "AlertEmail": "ops@example.com"}
    resources = provision(template, backend.url, params)
    os.environ.update(resources.function_environment(function_id, {"WS_CALLBACK_URL": backend.url}))
    return backend, resources
