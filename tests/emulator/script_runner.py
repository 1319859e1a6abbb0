"""Run one ``aws:executeScript`` Python script: ``python -m tests.emulator.script_runner RESULT``.

The Automation engine (:mod:`tests.emulator.automation`) starts this module in a child process
for every attempt of an ``aws:executeScript`` step, as AWS runs the step's script in its own
Python runtime (https://docs.aws.amazon.com/systems-manager/latest/userguide/
automation-action-executeScript.html):

* standard input: one JSON object ``{"script": <source>, "handler": <function name>,
  "events": <InputPayload after variable substitution>, "context": <dict>}``;
* the environment carries only the credentials of the execution's assume role
  (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN``), the Region and
  ``AWS_ENDPOINT_URL`` (the emulator), so ``boto3.client(...)`` in the script acts as the role;
* ``RESULT`` (the only argument) is a file path: the runner writes ``{"ok": true, "payload":
  <return value>}`` or ``{"ok": false, "error": <traceback>, "message": <one line>}`` there,
  leaving stdout and stderr to the script's own prints.

The exit code is 0 when a result was written (success or a handler exception), 2 when the
request itself was unusable. A return value that is not JSON-serialisable is an error, as the
step's ``Payload`` output is the JSON representation of the returned object.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path
from typing import Any


def run(request: dict[str, Any]) -> dict[str, Any]:
    """Execute ``request["script"]`` and call its handler; returns the result document.

    Args:
        request: ``{"script": str, "handler": str, "events": Any, "context": dict}``.

    Returns:
        ``{"ok": True, "payload": value}`` with the handler's JSON-serialisable return value,
        or ``{"ok": False, "error": traceback text, "message": "<Type>: <message>"}``.
    """
    namespace: dict[str, Any] = {"__name__": "__automation_script__"}
    handler_name = str(request.get("handler", ""))
    try:
        code = compile(str(request.get("script", "")), "<script>", "exec")
        exec(code, namespace)
        handler = namespace.get(handler_name)
        if not callable(handler):
            raise NameError(f"Handler {handler_name!r} is not defined in the script")
        value = handler(request.get("events"), request.get("context") or {})
        json.dumps(value)  # the Payload output is the JSON representation of the value
    except Exception as error:  # noqa: BLE001 - every script error becomes the step's failure
        return {
            "ok": False,
            "error": traceback.format_exc(),
            "message": f"{type(error).__name__}: {error}",
        }
    return {"ok": True, "payload": value}


def main(argv: list[str]) -> int:
    """Read the request from stdin, run it, write the result to ``argv[0]``; the exit code."""
    if len(argv) != 1:
        print("usage: python -m tests.emulator.script_runner RESULT_PATH", file=sys.stderr)
        return 2
    try:
        request = json.load(sys.stdin)
    except json.JSONDecodeError as error:
        print(f"the request on stdin is not JSON: {error}", file=sys.stderr)
        return 2
    if not isinstance(request, dict):
        print("the request on stdin must be a JSON object", file=sys.stderr)
        return 2
    result = run(request)
    Path(argv[0]).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
