"""Start and stop the embedded AWS emulator: moto's server plus fleetpatch's SSM extensions.

The server runs in a child process (``python -m tests.emulator --port N``) on 127.0.0.1 and a
free port, so Terraform, the demo and pytest all reach it over HTTP like a real endpoint.

Accounts: requests signed with the base key ``test`` act in moto's default account
``123456789012``; ``sts:AssumeRole`` into ``arn:aws:iam::<id>:role/<name>`` returns credentials
that act in account ``<id>`` (moto attributes an assumed role's requests to the role's account),
which is how the Terraform provider's ``assume_role`` block and :meth:`Emulator.session` reach
each member account.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import boto3

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ACCOUNT = "123456789012"
ACCESS_KEY = "test"
SECRET_KEY = "test"
EMULATOR_ROLE = "fleetpatch-emulator"

# Every service the modules and the demo call, by the Terraform aws provider's endpoint names.
PROVIDER_ENDPOINTS = (
    "athena",
    "cloudwatch",
    "cloudwatchlogs",
    "configservice",
    "ec2",
    "events",
    "glue",
    "iam",
    "kms",
    "lambda",
    "resourcegroups",
    "resourcegroupstaggingapi",
    "s3",
    "scheduler",
    "secretsmanager",
    "sns",
    "sqs",
    "ssm",
    "sts",
)


# The server imports moto and every engine before it answers: ~3 s of CPU, but `make test` runs
# its phases side by side on two cores and a start under that load took over 30 s (14 engine
# tests errored "did not answer within 30s"). Waiting longer costs nothing when it is quick.
START_TIMEOUT_SECONDS = 120.0


class EmulatorError(RuntimeError):
    """The emulator did not start, or stopped while in use."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class Emulator:
    """The moto server with fleetpatch's extensions, in a child process.

    Use as a context manager (``with Emulator() as emu: ...``) or call :meth:`start` and
    :meth:`stop`. ``endpoint`` is the URL to give boto3 (``endpoint_url``) and the Terraform
    provider (``endpoints { ... }``).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int | None = None,
        log_path: Path | None = None,
        load_managed_policies: bool = True,
    ) -> None:
        """Describe an emulator; nothing starts before :meth:`start`.

        Args:
            host: address to bind; keep 127.0.0.1 (the emulator has no authentication).
            port: TCP port; None picks a free one.
            log_path: file receiving the server's stdout/stderr; None discards them.
            load_managed_policies: load the AWS managed IAM policies (e.g.
                ``AmazonSSMManagedInstanceCore``) so policy attachments resolve.
        """
        self.host = host
        self.port = port or free_port(host)
        self.log_path = log_path
        self.load_managed_policies = load_managed_policies
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def endpoint(self) -> str:
        """``http://<host>:<port>``."""
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """Process id of the server, or None when it is not running."""
        return self._process.pid if self._process else None

    def _ready(self) -> bool:
        try:
            # A read-only moto endpoint: any HTTP answer means the server is up.
            with urllib.request.urlopen(f"{self.endpoint}/moto-api/config", timeout=1):
                return True
        except urllib.error.HTTPError:
            return True  # the server answered: it is up
        except (urllib.error.URLError, OSError):
            return False

    def start(self, timeout: float = START_TIMEOUT_SECONDS) -> Self:
        """Start the server and wait until it answers HTTP.

        Args:
            timeout: seconds to wait for the first answer (it usually comes within seconds;
                see :data:`START_TIMEOUT_SECONDS`).

        Raises:
            EmulatorError: the process exited or did not answer within ``timeout``; the
                message carries the end of its log when there is one.
        """
        if self._process is not None:
            return self
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        if self.load_managed_policies:
            env["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("wb")
        command = [sys.executable, "-m", "tests.emulator", "--host", self.host]
        command += ["--port", str(self.port)]
        self._process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                detail = self._tail()
                self.stop()
                raise EmulatorError(f"emulator exited at start on port {self.port}: {detail}")
            if self._ready():
                return self
            time.sleep(0.1)
        self.stop()
        raise EmulatorError(f"emulator did not answer on {self.endpoint} within {timeout:.0f}s")

    def _tail(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        return self.log_path.read_text(errors="replace")[-2000:]

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL after ``timeout`` seconds); idempotent."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=timeout)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget every resource of every account (moto's ``/moto-api/reset``).

        Raises:
            EmulatorError: the server did not accept the reset.
        """
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10):
                pass
        except (urllib.error.URLError, OSError) as error:
            raise EmulatorError(f"reset failed: {error}") from error

    def session(
        self, account_id: str = DEFAULT_ACCOUNT, region: str = "us-west-2"
    ) -> boto3.session.Session:
        """A boto3 session acting in ``account_id`` and ``region`` on the emulator.

        The default account uses the base key; any other account is reached with
        ``sts:AssumeRole`` into ``arn:aws:iam::<account_id>:role/fleetpatch-emulator``.
        Clients still need ``endpoint_url=self.endpoint`` (see :meth:`client`).

        Raises:
            botocore.exceptions.ClientError: AssumeRole failed (STS API).
        """
        base = boto3.session.Session(
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=region
        )
        if account_id == DEFAULT_ACCOUNT:
            return base
        sts = base.client("sts", endpoint_url=self.endpoint)
        credentials = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/{EMULATOR_ROLE}",
            RoleSessionName="fleetpatch",
        )["Credentials"]
        return boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=region,
        )

    def client(
        self, service: str, account_id: str = DEFAULT_ACCOUNT, region: str = "us-west-2"
    ) -> Any:
        """A boto3 client of ``service`` acting in ``account_id``/``region`` on the emulator.

        Raises:
            botocore.exceptions.ClientError: AssumeRole failed (STS API).
        """
        session: Any = self.session(account_id, region)
        return session.client(service, endpoint_url=self.endpoint)

    def environment(self) -> dict[str, str]:
        """Environment variables pointing AWS SDKs (boto3, Terraform) at the emulator."""
        return {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_EC2_METADATA_DISABLED": "true",
        }


@contextlib.contextmanager
def running(log_path: Path | None = None) -> Any:
    """Context manager: a started :class:`Emulator`, stopped on exit (also on error)."""
    emulator = Emulator(log_path=log_path)
    with emulator:
        yield emulator
