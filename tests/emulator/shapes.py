"""Check request and response documents against botocore's service model.

Two directions, one walker:

* :func:`request_violations` finds what AWS rejects server side with a ``ValidationException``
  (missing required members, string length, pattern, enum, numeric and list bounds). The
  emulated operations call it first, so the emulator refuses what AWS refuses.
* :func:`response_problems` finds what a real SDK would choke on in an emulated response:
  a required member missing, a member of the wrong JSON type, or a member the operation's
  output shape does not declare. The unit tests run it on every emulated response body.

Both work on JSON-protocol documents (SSM speaks ``awsJson1_1``): timestamps are epoch seconds,
blobs base64 text.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import regex  # type: ignore[import-untyped]
from botocore.model import ListShape, MapShape, OperationModel, Shape, StringShape, StructureShape
from botocore.session import get_session

_NUMBER_TYPES = ("integer", "long", "float", "double")


@lru_cache(maxsize=8)
def operation_model(service: str, operation: str) -> OperationModel:
    """The botocore model of ``service``'s ``operation`` (e.g. ``"ssm"``, ``"CreateAssociation"``).

    Raises:
        botocore.exceptions.OperationNotFoundError: the service has no such operation.
        botocore.exceptions.UnknownServiceError: no such service.
    """
    return get_session().get_service_model(service).operation_model(operation)


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> Any:
    # AWS patterns are Java regular expressions (\p{L} and friends): the `regex` module reads them.
    return regex.compile(pattern)


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "structure": (Mapping,),
    "map": (Mapping,),
    "list": (list,),
    "string": (str,),
    "blob": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
    "timestamp": (int, float),
}


def _type_ok(shape: Shape, value: Any) -> bool:
    expected = _JSON_TYPES.get(shape.type_name)
    if expected is None:
        return True
    if isinstance(value, bool) and shape.type_name != "boolean":
        return False
    return isinstance(value, expected)


def request_violations(operation: OperationModel, params: Mapping[str, Any]) -> list[str]:
    """AWS-style constraint violations of ``params`` against ``operation``'s input shape.

    Args:
        operation: the botocore operation model.
        params: the request document (member name → value), as parsed from the JSON body.

    Returns:
        Messages in the form AWS uses inside a ``ValidationException``, e.g. ``"Value 'x' at
        'associationName' failed to satisfy constraint: Member must satisfy regular expression
        pattern: ^[a-zA-Z0-9_\\-.]{3,128}$"``; empty when the request is valid.
    """
    shape = operation.input_shape
    if shape is None:
        return []
    found: list[str] = []
    _check_request(shape, params, "", found)
    return found


def _check_request(shape: Shape, value: Any, path: str, found: list[str]) -> None:
    where = path or "request"
    if value is None:
        return
    if not _type_ok(shape, value):
        found.append(
            f"Value at '{where}' failed to satisfy constraint: Member must be a {shape.type_name}"
        )
        return
    meta = shape.metadata
    if isinstance(shape, StructureShape):
        for name in shape.required_members:
            if value.get(name) is None:
                child = f"{path}.{_lower_first(name)}" if path else _lower_first(name)
                found.append(
                    f"Value null at '{child}' failed to satisfy constraint: Member must not be null"
                )
        for name, member in shape.members.items():
            if name in value:
                child = f"{path}.{_lower_first(name)}" if path else _lower_first(name)
                _check_request(member, value[name], child, found)
        return
    if isinstance(shape, ListShape):
        _check_size(meta, len(value), where, "length", found)
        for index, item in enumerate(value, start=1):
            _check_request(shape.member, item, f"{where}.{index}.member", found)
        return
    if isinstance(shape, MapShape):
        _check_size(meta, len(value), where, "length", found)
        for key, item in value.items():
            _check_request(shape.key, key, f"{where}.key", found)
            _check_request(shape.value, item, f"{where}.{key}", found)
        return
    if shape.type_name == "string":
        shown = "***" if meta.get("sensitive") else value
        _check_size(meta, len(value), where, "length", found, shown)
        enum = shape.enum if isinstance(shape, StringShape) else []
        if enum and value not in enum:
            found.append(
                f"Value '{shown}' at '{where}' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(enum)}]"
            )
        pattern = meta.get("pattern")
        if pattern and _compiled(pattern).search(value) is None:
            found.append(
                f"Value '{shown}' at '{where}' failed to satisfy constraint: "
                f"Member must satisfy regular expression pattern: {pattern}"
            )
    elif shape.type_name in _NUMBER_TYPES:
        _check_size(meta, value, where, "value", found)


def _check_size(  # noqa: PLR0917 - one private helper, called with positional facts
    meta: Mapping[str, Any],
    size: int | float,
    where: str,
    what: str,
    found: list[str],
    shown: Any = None,
) -> None:
    label = f"Value '{shown}'" if shown is not None else "Value"
    if "min" in meta and size < meta["min"]:
        found.append(
            f"{label} at '{where}' failed to satisfy constraint: "
            f"Member must have {what} greater than or equal to {meta['min']}"
        )
    if "max" in meta and size > meta["max"]:
        found.append(
            f"{label} at '{where}' failed to satisfy constraint: "
            f"Member must have {what} less than or equal to {meta['max']}"
        )


def response_problems(operation: OperationModel, body: Mapping[str, Any]) -> list[str]:
    """What is wrong with a JSON response ``body`` of ``operation`` against its output shape.

    Args:
        operation: the botocore operation model.
        body: the decoded JSON response document.

    Returns:
        One line per problem (``"<path>: <problem>"``): required member missing, wrong JSON type,
        value not in the enum, member not declared by the shape. Empty when the body conforms.
    """
    shape = operation.output_shape
    found: list[str] = []
    if shape is None:
        if body:
            found.append(f"$: operation has no output but the body has {sorted(body)}")
        return found
    _check_response(shape, body, "$", found)
    return found


def _check_response(shape: Shape, value: Any, path: str, found: list[str]) -> None:
    if not _type_ok(shape, value):
        found.append(f"{path}: expected {shape.type_name}, got {type(value).__name__}")
        return
    if isinstance(shape, StructureShape):
        for name in shape.required_members:
            if name not in value:
                found.append(f"{path}.{name}: required member missing")
        for name, item in value.items():
            member = shape.members.get(name)
            if member is None:
                found.append(f"{path}.{name}: not a member of {shape.name}")
            else:
                _check_response(member, item, f"{path}.{name}", found)
    elif isinstance(shape, ListShape):
        for index, item in enumerate(value):
            _check_response(shape.member, item, f"{path}[{index}]", found)
    elif isinstance(shape, MapShape):
        for key, item in value.items():
            _check_response(shape.value, item, f"{path}[{key!r}]", found)
    elif isinstance(shape, StringShape) and shape.enum and value not in shape.enum:
        found.append(f"{path}: {value!r} is not one of {shape.enum}")
