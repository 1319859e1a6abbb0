"""Patch run step 0: refuse parameters that would fail every node, before anything is started.

Runs as the ``ValidateInputs`` ``aws:executeScript`` step (runtime python3.11) of the patch-run
Automation document; embedded verbatim by ``ssm_documents/build.py`` (self-contained: standard
library, boto3 and botocore only).

AWS-RunPatchBaseline fails on every node when ``BaselineOverride`` and ``InstallOverrideList``
are both given ("Using the BaselineOverride parameter",
https://docs.aws.amazon.com/systems-manager/latest/userguide/patch-manager-baselineoverride-parameter.html),
and each node fails when an override URL names no object. Both are checked here, so a bad run
fails before it starts a single instance. An override URL must be an ``s3://`` URL under one of
``ApprovedOverridePrefixes`` (``bucket/prefix/``), a list the module renders into the document
(not a parameter, so the caller cannot widen it): a patch baseline may name its own package
repositories, so whoever chooses the override chooses what every node installs as root. The
parameters' ``allowedPattern`` is the control (SSM refuses the execution); this is the second
check. ``https://`` URLs are refused (an HTTPS URL cannot be scoped to an owner). The object is
then checked with S3 HeadObject as the Automation role (``s3:GetObject`` on the prefixes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

RETRIES = Config(retries={"mode": "standard", "max_attempts": 10})
# PatchNodes: the SendCommand TimeoutSeconds of AWS-RunPatchBaseline (see the document).
MIN_PATCH_TIMEOUT = 600
MAX_PATCH_TIMEOUT = 43200
MIN_ONLINE_TIMEOUT = 30
MAX_ONLINE_TIMEOUT = 570


class InvalidInputError(ValueError):
    """A parameter of the patch run cannot work; nothing was started."""


def s3_location(url: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> ``(bucket, key)``.

    Raises:
        InvalidInputError: not an s3:// URL with a bucket and a key.
    """
    parsed = urlparse(url)
    key = unquote(parsed.path.lstrip("/"))
    if parsed.scheme != "s3" or not parsed.netloc or not key or key.endswith("/"):
        raise InvalidInputError(f"{url} does not name an S3 object (s3://<bucket>/<key>)")
    return parsed.netloc, key


def check_prefix(name: str, url: str, prefixes: list[str]) -> None:
    """Refuse ``url`` unless it is an ``s3://`` URL under one of ``prefixes`` (``bucket/prefix/``).

    Raises:
        InvalidInputError: not s3://, outside every approved prefix, or a key with ``..``.
    """
    if not url.startswith("s3://"):
        raise InvalidInputError(
            f"{name} {url}: only s3:// URLs under the approved override prefixes are accepted"
        )
    location = url.removeprefix("s3://")
    if ".." in location.split("/"):
        raise InvalidInputError(f"{name} {url}: a key with a .. segment is refused")
    if not any(p and location.startswith(p) and len(location) > len(p) for p in prefixes):
        approved = ", ".join(f"s3://{p}" for p in prefixes) or "none"
        raise InvalidInputError(
            f"{name} {url} is outside the approved override prefixes ({approved})"
        )


def check_url(s3: S3Client, name: str, url: str) -> str:
    """Check that override URL ``url`` (parameter ``name``) names an S3 object; returns a note.

    S3 HeadObject: 404 / 403 / other errors refuse the URL.

    Raises:
        InvalidInputError: the URL names no object, or HeadObject was refused.
    """
    if url.startswith("s3://"):
        bucket, key = s3_location(url)
        try:
            head = s3.head_object(Bucket=bucket, Key=key)
        except ClientError as err:
            code = str(err.response.get("Error", {}).get("Code", ""))
            if code in {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}:
                raise InvalidInputError(f"{name} {url}: no such object") from err
            raise InvalidInputError(
                f"{name} {url}: HeadObject refused ({code}); the Automation role needs "
                "s3:GetObject on the object"
            ) from err
        return f"{name}: s3://{bucket}/{key} ({head.get('ContentLength', 0)} bytes)"
    raise InvalidInputError(f"{name} {url} is not an s3:// URL of an object")


def _whole(events: dict[str, Any], name: str, low: int, high: int) -> int:
    try:
        value = int(str(events.get(name, "")))
    except ValueError as err:
        raise InvalidInputError(f"{name} must be a whole number of seconds") from err
    if not low <= value <= high:
        raise InvalidInputError(f"{name} must be {low}-{high} seconds, not {value}")
    return value


def run(events: dict[str, Any], s3: S3Client) -> dict[str, Any]:
    """The step's logic.

    ``events``: ``BaselineOverride``, ``InstallOverrideList`` (URLs or empty),
    ``ApprovedOverridePrefixes`` (list of ``bucket/prefix/``, rendered by the module),
    ``Operation``, ``OnlineTimeoutSeconds``, ``PatchTimeoutSeconds``, ``ExecutionId``,
    ``MetricsNamespace``.

    Returns:
        ``SnapshotId`` (the execution id: one patch snapshot for every node of the run) and
        ``Checks`` (list of what was checked).

    Raises:
        InvalidInputError: both overrides given, an override URL outside the approved prefixes
            or naming no object, a timeout
            out of range, a MetricsNamespace beginning with AWS/, or an execution id that is not
            a 36-character UUID.
    """
    override = str(events.get("BaselineOverride", "")).strip()
    install_list = str(events.get("InstallOverrideList", "")).strip()
    checks: list[str] = []
    if override and install_list:
        raise InvalidInputError(
            "BaselineOverride and InstallOverrideList cannot be used together: "
            "AWS-RunPatchBaseline fails on every node when both are set"
        )
    if install_list and str(events.get("Operation", "")) != "Install":
        checks.append("InstallOverrideList is ignored by Scan")
    raw_prefixes = events.get("ApprovedOverridePrefixes") or []
    prefixes = [str(p) for p in raw_prefixes] if isinstance(raw_prefixes, list) else []
    for name, url in (("BaselineOverride", override), ("InstallOverrideList", install_list)):
        if url:
            check_prefix(name, url, prefixes)
            checks.append(check_url(s3, name, url))
    online = _whole(events, "OnlineTimeoutSeconds", MIN_ONLINE_TIMEOUT, MAX_ONLINE_TIMEOUT)
    patch = _whole(events, "PatchTimeoutSeconds", MIN_PATCH_TIMEOUT, MAX_PATCH_TIMEOUT)
    checks.append(f"OnlineTimeoutSeconds {online}, PatchTimeoutSeconds {patch}")
    namespace = str(events.get("MetricsNamespace", "") or "")
    if namespace.startswith("AWS/"):
        # PutMetricData: "You cannot specify a namespace that begins with 'AWS/'".
        raise InvalidInputError(
            f"MetricsNamespace {namespace!r}: namespaces beginning with AWS/ are AWS's own"
        )
    snapshot = str(events.get("ExecutionId", ""))
    parts = snapshot.split("-")
    if len(snapshot) != 36 or [len(p) for p in parts] != [8, 4, 4, 4, 12]:
        raise InvalidInputError(f"the execution id {snapshot!r} is not a UUID usable as SnapshotId")
    return {"SnapshotId": snapshot, "Checks": checks}


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """``aws:executeScript`` entry point: :func:`run` with an S3 client of the assume role.

    Raises:
        InvalidInputError: see :func:`run`.
    """
    return run(events, boto3.client("s3", config=RETRIES))
