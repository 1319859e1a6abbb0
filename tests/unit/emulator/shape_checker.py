"""An after-call hook for boto3 clients: every response of the named operations conforms to
botocore's model (tests/emulator/shapes.py), and every error is one the operation may return."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from tests.emulator.shapes import response_problems


class ShapeChecker:
    """Register with ``client.meta.events.register("after-call.<service>", checker)``.

    ``problems`` collects every mismatch; ``checked`` counts the responses looked at.
    """

    def __init__(
        self,
        operations: Iterable[str],
        common_errors: Iterable[str] = ("ValidationException", "InvalidNextToken"),
        require_message: bool = False,
    ) -> None:
        self.operations = set(operations)
        self.common_errors = set(common_errors)
        self.require_message = require_message
        self.problems: list[str] = []
        self.checked = 0

    def __call__(self, http_response: Any, model: Any, **_: Any) -> None:
        if model.name not in self.operations:
            return
        self.checked += 1
        body = json.loads(http_response.content or b"{}")
        if http_response.status_code < 300:
            self.problems += [f"{model.name} {p}" for p in response_problems(model, body)]
            return
        code = str(body.get("__type", "")).rsplit("#", 1)[-1]
        allowed = {shape.name for shape in model.error_shapes} | self.common_errors
        if code not in allowed:
            self.problems.append(f"{model.name}: error {code!r} not in {sorted(allowed)}")
        if self.require_message and not (body.get("message") or body.get("Message")):
            self.problems.append(f"{model.name}: error {code!r} has no message")
