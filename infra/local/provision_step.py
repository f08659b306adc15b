"""``provision`` as a short-lived child process of ``infra.local.run``.

Provisioning opens a boto3 client for each service it touches, and botocore loads each service's
model for it: memory that the serving process would never use again, and that CPython seldom hands
back to the system. In a child, it goes when the child exits.

Reads a JSON request on stdin and prints ``Resources.to_json()`` on stdout, or ``{"error": ...}``
for a template error; logs go to stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from infra.local.provision import provision
from infra.local.run import configure_logging
from infra.local.template import TemplateError, load_template


def main() -> int:
    request = json.load(sys.stdin)
    configure_logging(request["log_level"])
    try:
        resources = provision(
            load_template(Path(request["template"])),
            request["endpoint"],
            request["params"],
            region=request["region"],
            service_endpoints=request["service_endpoints"],
        )
    except TemplateError as error:
        print(json.dumps({"error": str(error)}))
        return 1
    print(resources.to_json())
    return 0


if __name__ == "__main__":
    sys.exit(main())
