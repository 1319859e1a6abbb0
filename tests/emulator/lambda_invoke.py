"""Lambda invocation on the emulator: run a function's deployed zip for real, as its execution role.

moto 5.2 runs functions in Docker (unavailable here) or answers a canned payload. This module
runs the handler of a Python function from the zip moto keeps (``LambdaFunction.code_bytes``):

* the zip is extracted into a fresh task directory (``LAMBDA_TASK_ROOT``);
* the handler runs in a child process, ``sys.executable -c <bootstrap>`` — the emulator's own
  interpreter and virtualenv, so Lambda layers the function references (Powertools for AWS
  Lambda, ``tests.emulator.awslambda.PUBLIC_LAYER_PUBLISHERS``) and boto3 come from the venv, not
  from the layer zip; the function's ``Runtime`` (``python3.12``) is reported in
  ``AWS_EXECUTION_ENV`` but the venv's Python version runs it;
* the environment is the one AWS documents for the Python runtime: the function's
  ``Environment.Variables`` plus the reserved variables (``AWS_LAMBDA_FUNCTION_NAME``,
  ``AWS_LAMBDA_FUNCTION_VERSION``, ``AWS_LAMBDA_FUNCTION_MEMORY_SIZE``,
  ``AWS_LAMBDA_LOG_GROUP_NAME``, ``AWS_LAMBDA_LOG_STREAM_NAME``, ``AWS_REGION``,
  ``AWS_DEFAULT_REGION``, ``AWS_EXECUTION_ENV``, ``_HANDLER``, ``LAMBDA_TASK_ROOT``,
  ``LAMBDA_RUNTIME_DIR``, ``TZ``) and the execution role's temporary credentials
  (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``) —
  https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
  — plus ``AWS_ENDPOINT_URL`` pointing at the emulator, so every SDK call the code makes is
  an HTTP request signed as the role session and evaluated by the IAM hook;
* the credentials come from :func:`tests.emulator.iam.assume_role` of the execution role by
  ``lambda.amazonaws.com`` (session name = the function name, as Lambda names it), so a role
  whose trust policy does not allow Lambda fails the invocation as on AWS;
* ``Timeout`` (seconds) is enforced from the handler call on (the Init phase — interpreter
  start and imports — has its own 10 s limit, as on AWS:
  https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html): the process
  ends and the invocation reports ``<request id> Task timed out after N.NN seconds`` with
  ``FunctionError: Unhandled``;
* an exception in the handler is reported as AWS's Python runtime reports it:
  ``{"errorMessage", "errorType", "requestId", "stackTrace"}`` with ``FunctionError:
  Unhandled`` (https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html).

Invocation types (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html):
``RequestResponse`` runs and answers 200 with the payload; ``Event`` queues the event and
answers 202 at once, the handler runs in a daemon thread (EventBridge and SNS invoke this way:
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html); ``DryRun`` only checks
that the function exists and answers 204. The Lambda ``Invoke`` API of moto's server is routed
here by :func:`install`, so ``boto3.client("lambda").invoke(...)`` runs the code too (the
caller's ``lambda:InvokeFunction`` is evaluated by the IAM hook, not here).

Not emulated: the asynchronous retries (two more attempts after one and two minutes) and the
dead-letter queue / on-failure destination of a failed asynchronous invocation
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html); throttling
past the account's concurrency (reserved concurrency bounds a function's parallel runs, and 0
throttles every invocation; see :func:`invoke`); container re-use between invocations (every
invocation is a cold start); memory limits; non-Python runtimes and container images (they keep
moto's behaviour).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import functools
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import iam

Json = dict[str, Any]
_MARK = "_fleetpatch_lambda_invoke_installed"
LOG_TAIL_BYTES = 4096  # the Invoke API's LogResult is "the last 4 KB of the execution log"
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # synchronous response payload quota (6 MB)
# The Init phase (runtime start, imports) may take 10 s besides the function's Timeout:
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-ib
INIT_LIMIT_SECONDS = 10.0

# The child process: read the event from stdin, import the handler, call it with a context
# object like the Python runtime's, write {"ok", "payload"|"error"} to the result file argv[1].
_BOOTSTRAP = r"""
import importlib, json, os, sys, threading, time, traceback
result_path = sys.argv[1]
timeout = float(os.environ["FLEETPATCH_LAMBDA_TIMEOUT"])
request_id = os.environ["FLEETPATCH_LAMBDA_REQUEST_ID"]
deadline = None
class Context:
    function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
    invoked_function_arn = os.environ["FLEETPATCH_LAMBDA_FUNCTION_ARN"]
    memory_limit_in_mb = os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
    aws_request_id = request_id
    log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
    log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
    identity = None
    client_context = None
    @staticmethod
    def get_remaining_time_in_millis():
        return max(0, int((deadline - time.time()) * 1000))
lock = threading.Lock()
finished = []
def write(document):
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump(document, handle)
def timed_out():
    with lock:
        if finished:
            return
        write({"ok": False, "error": {"errorType": "Sandbox.Timedout",
            "errorMessage": f"{request_id} Task timed out after {timeout:.2f} seconds"}})
        sys.stdout.flush(); sys.stderr.flush()
        os._exit(124)
def finish():
    with lock:
        finished.append(True)
try:
    event = json.loads(sys.stdin.read() or "null")
    module_name, _, function_name = os.environ["_HANDLER"].rpartition(".")
    sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])
    handler = getattr(importlib.import_module(module_name), function_name)
    # The Init phase (imports) is not part of the function's timeout; the Invoke phase is.
    deadline = time.time() + timeout
    timer = threading.Timer(timeout, timed_out)
    timer.daemon = True
    timer.start()
    try:
        payload = handler(event, Context())
    finally:
        finish()
    write({"ok": True, "payload": json.dumps(payload)})
except BaseException as error:
    frames = traceback.format_list(traceback.extract_tb(error.__traceback__))
    write({"ok": False, "error": {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "requestId": request_id,
        "stackTrace": frames,
    }})
    traceback.print_exc()
"""


class LambdaInvokeError(Exception):
    """The invocation could not start (no such function, unsupported runtime, role refused).

    ``code`` is the Lambda API error code AWS returns in that case
    (``ResourceNotFoundException``, ``InvalidRuntimeException``, ``AccessDeniedException``...).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Invocation:
    """One invocation and, once finished, its outcome.

    Attributes:
        request_id: the invocation's request id (``x-amzn-RequestId``).
        function_arn: the invoked function's ARN.
        invocation_type: ``RequestResponse``, ``Event`` or ``DryRun``.
        status_code: 200 (RequestResponse), 202 (Event) or 204 (DryRun), as Invoke answers.
        done: set when the handler finished (immediately for DryRun).
        payload: the handler's JSON result, or the error document (bytes of JSON).
        function_error: ``"Unhandled"`` when the handler raised or timed out, else None.
        log_tail: the last 4 KB of the handler's stdout/stderr (text).
        role_session_arn: the execution role session the code ran as.
        seconds: wall time of the handler, seconds.
    """

    request_id: str
    function_arn: str
    invocation_type: str
    status_code: int
    done: threading.Event = field(default_factory=threading.Event)
    payload: bytes = b""
    function_error: str | None = None
    log_tail: str = ""
    role_session_arn: str = ""
    seconds: float = 0.0

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the handler finished; returns False on ``timeout`` (seconds)."""
        return self.done.wait(timeout)

    def summary(self) -> Json:
        """A JSON view: ``{"request_id","function_arn","invocation_type","status_code","done",
        "payload" (decoded JSON or text), "function_error","role_session_arn","seconds"}``."""
        decoded: Any = self.payload.decode("utf-8", errors="replace")
        with contextlib.suppress(json.JSONDecodeError):
            decoded = json.loads(decoded) if decoded else None
        return {
            "request_id": self.request_id,
            "function_arn": self.function_arn,
            "invocation_type": self.invocation_type,
            "status_code": self.status_code,
            "done": self.done.is_set(),
            "payload": decoded,
            "function_error": self.function_error,
            "role_session_arn": self.role_session_arn,
            "seconds": round(self.seconds, 3),
        }


_RUNNING: set[threading.Thread] = set()
_RUNNING_LOCK = threading.Lock()
# Asynchronous invocations wait in the function's queue while its reserved concurrency is in use,
# as Lambda's asynchronous invocation queue does with throttled events ("How Lambda handles
# asynchronous invocations": https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html;
# reserved concurrency: https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
# Unreserved functions share the emulator's own cap (a resource limit of this machine, not an AWS
# quota: every invocation is a Python process).
EMULATOR_CONCURRENCY = 4
_SLOTS_LOCK = threading.Lock()
_FUNCTION_SLOTS: dict[str, threading.BoundedSemaphore] = {}
_EMULATOR_SLOTS = threading.BoundedSemaphore(EMULATOR_CONCURRENCY)


def _function_slots(fn: Any) -> threading.BoundedSemaphore:
    """The semaphore bounding ``fn``'s concurrent executions (its reserved concurrency)."""
    # None = no reservation (the shared pool); 0 never reaches here (invoke throttles it).
    configured = getattr(fn, "reserved_concurrency", None)
    reserved = EMULATOR_CONCURRENCY if configured is None else int(configured)
    with _SLOTS_LOCK:
        slots = _FUNCTION_SLOTS.get(fn.function_arn)
        if slots is None or getattr(slots, "_fleetpatch_size", None) != reserved:
            slots = threading.BoundedSemaphore(max(1, reserved))
            slots._fleetpatch_size = reserved  # type: ignore[attr-defined]
            _FUNCTION_SLOTS[fn.function_arn] = slots
        return slots


def _function(account_id: str, region: str, function_name: str, qualifier: str | None) -> Any:
    from moto.awslambda.models import lambda_backends  # noqa: PLC0415 - moto is heavy

    try:
        return lambda_backends[account_id][region].get_function(function_name, qualifier)
    except Exception as error:  # moto raises several not-found types
        raise LambdaInvokeError(
            "ResourceNotFoundException", f"Function not found: {function_name}"
        ) from error


def _credentials(account_id: str, role_arn: str, function_name: str) -> tuple[Json, str]:
    principal = iam.service("lambda.amazonaws.com", account_id)
    try:
        credentials = iam.assume_role(principal, role_arn, function_name[:64])
    except iam.AccessDenied as error:
        raise LambdaInvokeError(
            "AccessDeniedException",
            f"The role defined for the function cannot be assumed by Lambda. {error}",
        ) from error
    except NotImplementedError:
        credentials = _moto_assume(role_arn, function_name[:64])
    role_name = role_arn.rsplit("/", 1)[-1]
    role_account = role_arn.split(":")[4]
    session = f"arn:aws:sts::{role_account}:assumed-role/{role_name}/{function_name[:64]}"
    return credentials, session


def _moto_assume(role_arn: str, session_name: str) -> Json:
    """moto's STS issuing credentials directly (until tests.emulator.iam.assume_role lands)."""
    from moto.sts.models import sts_backends  # noqa: PLC0415

    role_account = role_arn.split(":")[4]
    assumed = sts_backends[role_account]["aws"].assume_role(
        region_name="us-east-1",
        role_session_name=session_name,
        role_arn=role_arn,
        policy="",
        duration=3600,
        external_id="",
    )
    return {
        "AccessKeyId": assumed.access_key_id,
        "SecretAccessKey": assumed.secret_access_key,
        "SessionToken": assumed.session_token,
    }


def _environment(fn: Any, region: str, task_root: str, request_id: str, creds: Json) -> Json:
    from .control import endpoint  # noqa: PLC0415

    now = dt.datetime.now(dt.UTC)
    logging_config = getattr(fn, "fleetpatch_logging_config", None) or {}
    log_group = logging_config.get("LogGroup") or f"/aws/lambda/{fn.function_name}"
    env: Json = {str(k): str(v) for k, v in (fn.environment_vars or {}).items()}
    env.update(
        {
            # Reserved variables of the runtime (configuration-envvars.html#...-runtime).
            "_HANDLER": fn.handler or "",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.run_time}",
            "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
            "AWS_LAMBDA_FUNCTION_VERSION": str(fn.version),
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": f"{now:%Y/%m/%d}/[{fn.version}]{uuid.uuid4().hex}",
            "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
            "AWS_SESSION_TOKEN": creds["SessionToken"],
            "LAMBDA_TASK_ROOT": task_root,
            "LAMBDA_RUNTIME_DIR": os.path.dirname(sys.executable),
            "TZ": ":UTC",
            "LANG": "en_US.UTF-8",
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": task_root,
            # The emulator, not AWS: every SDK call goes to it, signed as the role session.
            "AWS_ENDPOINT_URL": endpoint(),
            "AWS_EC2_METADATA_DISABLED": "true",
            "FLEETPATCH_LAMBDA_TIMEOUT": str(fn.timeout),
            "FLEETPATCH_LAMBDA_FUNCTION_ARN": fn.function_arn,
            "FLEETPATCH_LAMBDA_REQUEST_ID": request_id,
        }
    )
    if getattr(fn, "tracing_config", {}).get("Mode") == "Active":
        env["_X_AMZN_TRACE_ID"] = f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0"
        env["AWS_XRAY_CONTEXT_MISSING"] = "IGNORE_ERROR"
        env["POWERTOOLS_TRACE_DISABLED"] = env.get("POWERTOOLS_TRACE_DISABLED", "true")
    return env


def _run(fn: Any, region: str, payload: bytes, invocation: Invocation) -> None:
    started = time.monotonic()
    task_root = tempfile.mkdtemp(prefix=f"lambda-{fn.function_name[:40]}-")
    try:
        try:
            credentials, session = _credentials(fn.account_id, fn.role, fn.function_name)
        except LambdaInvokeError as error:
            invocation.function_error = "Unhandled"
            invocation.payload = json.dumps(
                {"errorMessage": str(error), "errorType": error.code}
            ).encode()
            return
        invocation.role_session_arn = session
        with zipfile.ZipFile(io.BytesIO(fn.code_bytes)) as archive:
            archive.extractall(task_root)
        env = _environment(fn, region, task_root, invocation.request_id, credentials)
        result_path = os.path.join(task_root, ".fleetpatch-result.json")
        try:
            process = subprocess.run(
                [sys.executable, "-c", _BOOTSTRAP, result_path],
                input=payload,
                cwd=task_root,
                env=env,
                capture_output=True,
                timeout=INIT_LIMIT_SECONDS + float(fn.timeout) + 5.0,
                check=False,
            )
            logs = process.stdout + process.stderr
        except subprocess.TimeoutExpired as expired:
            logs = (expired.stdout or b"") + (expired.stderr or b"")
            invocation.function_error = "Unhandled"
            message = (
                f"{invocation.request_id} Task timed out after {float(fn.timeout):.2f} seconds"
            )
            invocation.payload = json.dumps(
                {"errorType": "Sandbox.Timedout", "errorMessage": message}
            ).encode()
            invocation.log_tail = logs[-LOG_TAIL_BYTES:].decode("utf-8", errors="replace")
            return
        invocation.log_tail = logs[-LOG_TAIL_BYTES:].decode("utf-8", errors="replace")
        try:
            with open(result_path, encoding="utf-8") as handle:
                result = json.load(handle)
        except (OSError, json.JSONDecodeError):
            result = {
                "ok": False,
                "error": {
                    "errorType": "Runtime.ExitError",
                    "errorMessage": f"RequestId: {invocation.request_id} Error: Runtime exited "
                    f"with error: exit status {process.returncode}",
                },
            }
        if result.get("ok"):
            invocation.payload = str(result["payload"]).encode("utf-8")
        else:
            invocation.function_error = "Unhandled"
            invocation.payload = json.dumps(result["error"]).encode("utf-8")
    finally:
        shutil.rmtree(task_root, ignore_errors=True)
        invocation.seconds = time.monotonic() - started
        invocation.done.set()


def invoke(
    account_id: str,
    region: str,
    function_name: str,
    event: Any,
    invocation_type: str = "Event",
    *,
    qualifier: str | None = None,
    on_done: Callable[[Invocation], None] | None = None,
) -> Invocation:
    """Invoke a Python function of the emulator: the Lambda ``Invoke`` API in process.

    Args:
        account_id: the function's account.
        region: the function's Region.
        function_name: name, ARN or partial ARN of the function.
        event: the event (any JSON value, or ``bytes`` of JSON text).
        invocation_type: ``"Event"`` (asynchronous, returns at once with status 202),
            ``"RequestResponse"`` (returns after the handler, status 200) or ``"DryRun"``
            (204, nothing runs).
        qualifier: version or alias; None means ``$LATEST``.
        on_done: called with the finished :class:`Invocation` (from the thread that ran it).

    Returns:
        The :class:`Invocation`; ``.wait()`` blocks until it finished.

    Raises:
        LambdaInvokeError: ``ResourceNotFoundException`` (no such function),
            ``InvalidRuntimeException`` (not a Python zip function),
            ``InvalidParameterValueException`` (unknown invocation type),
            ``TooManyRequestsException`` (a RequestResponse invocation of a function whose
            reserved concurrency is 0).
    """
    fn = _function(account_id, region, function_name, qualifier)
    if invocation_type not in ("Event", "RequestResponse", "DryRun"):
        raise LambdaInvokeError(
            "InvalidParameterValueException", f"Unsupported invocation type {invocation_type}"
        )
    if not supported(fn):
        raise LambdaInvokeError(
            "InvalidRuntimeException",
            f"The emulator runs Python zip functions only, not {fn.run_time}",
        )
    payload = event if isinstance(event, bytes) else json.dumps(event).encode("utf-8")
    status = {"Event": 202, "RequestResponse": 200, "DryRun": 204}[invocation_type]
    invocation = Invocation(str(uuid.uuid4()), fn.function_arn, invocation_type, status)
    if invocation_type == "DryRun":
        invocation.done.set()
        return invocation
    configured = getattr(fn, "reserved_concurrency", None)
    if configured is not None and int(configured) == 0:
        # Reserved concurrency 0 throttles every invocation ("Configuring reserved concurrency":
        # https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html): a
        # synchronous Invoke fails with TooManyRequestsException (429, Reason
        # ReservedFunctionConcurrentInvocationLimitExceeded,
        # https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html); an asynchronous event is
        # accepted (202) and stays queued, never run (its retries for up to the maximum event age
        # and its dead-letter delivery are not emulated).
        if invocation_type == "RequestResponse":
            raise LambdaInvokeError(
                "TooManyRequestsException",
                "Rate Exceeded. (ReservedFunctionConcurrentInvocationLimitExceeded)",
            )
        return invocation

    def run() -> None:
        try:
            with _function_slots(fn), _EMULATOR_SLOTS:
                _run(fn, region, payload, invocation)
        finally:
            with _RUNNING_LOCK:
                _RUNNING.discard(threading.current_thread())
            if on_done is not None:
                on_done(invocation)

    if invocation_type == "RequestResponse":
        run()
        return invocation
    thread = threading.Thread(target=run, name=f"lambda-{fn.function_name}", daemon=True)
    with _RUNNING_LOCK:
        _RUNNING.add(thread)
    thread.start()
    return invocation


def drain(timeout: float = 60.0) -> int:
    """Wait for running asynchronous invocations; returns how many still run after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        with _RUNNING_LOCK:
            running = list(_RUNNING)
        if not running:
            return 0
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return len(running)
        if running[0].ident is None:  # registered, not started yet
            time.sleep(min(remaining, 0.05))
            continue
        running[0].join(min(remaining, 0.5))


def supported(fn: Any) -> bool:
    """Whether the emulator runs ``fn`` itself: a zip package with a ``python3.*`` runtime."""
    runtime = str(getattr(fn, "run_time", "") or "")
    return (
        getattr(fn, "package_type", "Zip") == "Zip"
        and runtime.startswith("python3")
        and bool(getattr(fn, "code_bytes", b""))
    )


def _wrap_backend_invoke(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def backend_invoke(  # noqa: PLR0917 - moto's signature
        self: Any,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> Any:
        from moto.awslambda.exceptions import (  # noqa: PLC0415
            InvalidParameterValueException,
        )

        fn = self.get_function(function_name, qualifier)
        if not supported(fn):
            return original(self, function_name, qualifier, body, headers, response_headers)
        invocation_type = headers.get("X-Amz-Invocation-Type") or "RequestResponse"
        raw = body.encode("utf-8") if isinstance(body, str) else (body or b"")
        if raw.strip():
            try:
                json.loads(raw)
            except json.JSONDecodeError as error:
                raise InvalidParameterValueException(
                    f"Could not parse request body into json: {error}"
                ) from error
        try:
            invocation = invoke(
                fn.account_id,
                fn.region,
                fn.function_arn,
                raw or b"{}",
                invocation_type,
                qualifier=qualifier,
            )
        except LambdaInvokeError as error:
            raise InvalidParameterValueException(str(error)) from error
        response_headers["x-amzn-RequestId"] = invocation.request_id
        if invocation_type != "RequestResponse":
            response_headers["Content-Length"] = "0"
            return b""
        response_headers["X-Amz-Executed-Version"] = str(fn.version)
        if invocation.function_error:
            response_headers["x-amz-function-error"] = invocation.function_error
        tail = invocation.log_tail.encode("utf-8")[-LOG_TAIL_BYTES:]
        response_headers["x-amz-log-result"] = base64.b64encode(tail).decode("ascii")
        response_headers["Content-Length"] = str(len(invocation.payload))
        return invocation.payload

    return backend_invoke


def install() -> None:
    """Route moto's Lambda ``Invoke`` API to :func:`invoke` for Python zip functions.

    Idempotent."""
    from moto.awslambda.models import LambdaBackend  # noqa: PLC0415

    if getattr(LambdaBackend, _MARK, False):
        return
    LambdaBackend.invoke = _wrap_backend_invoke(LambdaBackend.invoke)  # type: ignore[method-assign]
    setattr(LambdaBackend, _MARK, True)
