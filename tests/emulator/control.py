"""The emulator's control plane: ``/fleetpatch/...`` JSON endpoints beside moto's AWS endpoints.

AWS has no API for "the agent on this node came online" or "fire this schedule now"; the demo
and the tests need both. Each engine module (agent, automation, events, datasync, config rules,
IAM) registers its control endpoints here with :func:`route`; :func:`wrap` puts them in front of
moto's WSGI application, so one server on one port serves both. Control endpoints are not AWS
APIs and are never signed or IAM-evaluated: they stand in for things that happen outside the
AWS API (an agent registering, a clock reaching a schedule).

Every endpoint takes a JSON object (``POST``) or nothing (``GET``) and answers a JSON object;
an unknown path answers 404, a handler's :class:`ControlError` answers 400 with
``{"error": message}``.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

Json = dict[str, Any]
Handler = Callable[[Json], Json]
PREFIX = "/fleetpatch/"

_ROUTES: dict[tuple[str, str], Handler] = {}
_LOCK = threading.Lock()


class ControlError(ValueError):
    """A control request that cannot be carried out (answered 400 with the message)."""


def route(method: str, path: str) -> Callable[[Handler], Handler]:
    """Register ``handler(body) -> answer`` for ``method`` (GET/POST) on ``/fleetpatch/<path>``."""

    def register(handler: Handler) -> Handler:
        with _LOCK:
            _ROUTES[(method.upper(), PREFIX + path.strip("/"))] = handler
        return handler

    return register


def routes() -> list[tuple[str, str]]:
    """Every registered ``(method, path)``, sorted (``GET /fleetpatch/routes`` answers it)."""
    return sorted(_ROUTES)


def endpoint() -> str:
    """The emulator's own URL (``http://127.0.0.1:<port>``), for engines that call its AWS APIs.

    Set by :mod:`tests.emulator.__main__` before serving (``FLEETPATCH_EMULATOR_ENDPOINT``).

    Raises:
        ControlError: the emulator was not started through ``python -m tests.emulator``.
    """
    url = os.environ.get("FLEETPATCH_EMULATOR_ENDPOINT", "")
    if not url:
        raise ControlError("FLEETPATCH_EMULATOR_ENDPOINT is not set (start the emulator first)")
    return url


def handle(method: str, path: str, body: bytes) -> tuple[int, Json]:  # noqa: PLR0911
    """Dispatch one control request; returns ``(HTTP status, JSON answer)``."""
    if path == PREFIX + "routes":
        return 200, {"routes": [f"{m} {p}" for m, p in routes()]}
    handler = _ROUTES.get((method.upper(), path.rstrip("/")))
    if handler is None:
        return 404, {"error": f"no control endpoint {method} {path}"}
    try:
        request = json.loads(body.decode("utf-8")) if body.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return 400, {"error": f"the body is not JSON: {error}"}
    if not isinstance(request, dict):
        return 400, {"error": "the body must be a JSON object"}
    try:
        return 200, handler(request)
    except ControlError as error:
        return 400, {"error": str(error)}
    except (KeyError, ValueError, TypeError) as error:
        # A member of the wrong type or an unknown account/Region reached an engine: the
        # request is bad, not the emulator (a 500 would read as an emulator fault).
        return 400, {"error": f"bad request to {path}: {type(error).__name__}: {error}"}


def wrap(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """A WSGI application serving ``/fleetpatch/...`` itself and everything else through ``app``."""

    def application(environ: Json, start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX):
            return app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        status, answer = handle(environ.get("REQUEST_METHOD", "GET"), path, body)
        payload = json.dumps(answer, default=str).encode("utf-8")
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}.get(status, "Error")
        start_response(
            f"{status} {reason}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    return application
