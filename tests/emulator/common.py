"""What every emulated operation shares: request parsing with AWS validation, errors, paging."""

from __future__ import annotations

import json
from typing import Any

from moto.core.exceptions import ServiceException

from .shapes import operation_model, request_violations

Json = dict[str, Any]
PAGE_SIZE = 50


class EmulatedError(ServiceException):
    """An AWS error response: ``code`` is an error shape name of the service's botocore model."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


def parse_request(service: str, operation: str, body: Any) -> Json:
    """The JSON request ``body`` of ``service``'s ``operation``, checked against its input shape.

    Args:
        service: botocore service name, e.g. ``"ssm"`` or ``"config"``.
        operation: API operation name, e.g. ``"CreateAssociation"``.
        body: the raw request body (``str`` or ``bytes``; empty means ``{}``).

    Raises:
        EmulatedError: ``ValidationException`` listing every constraint the request violates,
            worded as AWS words it (``"1 validation error detected: Value ... at ..."``).
    """
    raw = body.decode("utf-8") if isinstance(body, bytes) else body
    params: Json = json.loads(raw) if raw else {}
    problems = request_violations(operation_model(service, operation), params)
    if problems:
        noun = "error" if len(problems) == 1 else "errors"
        raise EmulatedError(
            "ValidationException",
            f"{len(problems)} validation {noun} detected: " + "; ".join(problems),
        )
    return params


def page(
    items: list[Json],
    params: Json,
    default_size: int = PAGE_SIZE,
    size_key: str = "MaxResults",
) -> tuple[list[Json], Json]:
    """One page of ``items`` for a request with ``NextToken`` and a page size member.

    Returns:
        The page and ``{"NextToken": ...}`` when more items follow (``{}`` otherwise).

    Raises:
        EmulatedError: ``InvalidNextToken`` when the token is not one this emulator issued.
    """
    token = params.get("NextToken")
    start = 0
    if token:
        if not str(token).isdigit() or int(token) > len(items):
            raise EmulatedError("InvalidNextToken", "The specified token is not valid.")
        start = int(token)
    end = start + int(params.get(size_key) or default_size)
    extra: Json = {"NextToken": str(end)} if end < len(items) else {}
    return items[start:end], extra


def snake(operation: str) -> str:
    """``CreateAssociation`` → ``create_association`` (moto's response method names)."""
    out = [operation[0].lower()]
    for char in operation[1:]:
        out.append("_" + char.lower() if char.isupper() else char)
    return "".join(out)
