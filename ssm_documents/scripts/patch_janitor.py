"""Patch janitor: clean up patch-run markers whose execution is no longer running.

Runs as the ``CleanUpMarkers`` ``aws:executeScript`` step (runtime python3.11) of the
``<prefix>-PatchJanitor`` Automation document, started every hour by an EventBridge schedule of
modules/patch_automation; ``ssm_documents/build.py`` embeds this file verbatim, so it stays
self-contained (standard library, boto3 and botocore only) and never contains the Automation
variable marker (two opening braces).

A patch run claims each stopped instance it starts with the tag
``fleetpatch:started-by = <its execution id>`` and its last step stops those instances again and
removes the tag. When that step never ran or did not finish (the execution was cancelled and
its onCancel path hit AWS's two-minute limit, a stop failed, the execution died), the marker
stays: the instance keeps running and every later run skips it. This janitor finds such markers
and does what the stop step would have done.

Per marker value (one GetAutomationExecution per distinct execution id, cached):

* ``live``: the execution is not terminal and started less than ``GracePeriodSeconds`` ago (the
  patch run's maximum run time) -> left alone.
* ``foreign``: the execution belongs to another document (another fleetpatch deployment in the
  account and Region uses the same tag key) -> left alone.
* ``dead``: a terminal status (Success, Failed, Cancelled, TimedOut, CompletedWithSuccess,
  CompletedWithFailure, Rejected, ChangeCalendarOverrideRejected, Exited) -> cleaned.
* ``overdue``: not terminal but older than the grace period (every step timeout has passed) ->
  cleaned.
* ``expired``: AutomationExecutionNotFoundException; the id is well formed, so the execution is
  older than AWS's 30-day execution history -> cleaned.
* ``malformed``: the marker is not an execution id (set by hand): no run wrote it -> the marker is
  removed, the instance is never stopped.
* ``unknown``: the lookup failed (access denied, throttled after retries) -> left alone, counted
  as an error.

Cleaning an instance: ``running`` -> stopped when the dead run started it (its ``LaunchTime``,
"the time that the instance was last launched", is not after the execution ended; an instance
started again later by someone else keeps running), then the marker is removed; ``stopped`` /
``stopping`` -> the marker is removed; ``pending`` -> deferred to the next round (EC2 refuses to
stop a pending instance). The marker is removed only after a successful stop, and only with its
own value (DeleteTags with Key and Value), so a marker rewritten meanwhile stays.

The patch-set tag ``fleetpatch:patch-run = <execution id>`` (Run Command's target, set on every
node a run patches, removed by the same stop step) is cleaned up the same way: when the
execution it names is dead, overdue, expired or the value is no execution id, the tag is removed
(EC2 DeleteTags with Key and Value; hybrid ``mi-`` nodes: RemoveTagsFromResource after
ListTagsForResource shows the same value). Nothing is stopped for it: these nodes were running
before the run, or carry the ``started-by`` marker as well.

Limits respected: DescribeInstances pages of up to 1000; StopInstances batches of 50;
DeleteTags up to 1000 resource ids per call; GetAutomationExecution once per execution id (its
quota is 3 transactions per second; botocore's standard retries absorb throttling); one
PutMetricData call (up to 1000 metrics allowed); the whole step stops looking up new executions
after :data:`TIME_BUDGET_SECONDS` so it ends well within executeScript's 600 seconds.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ssm import SSMClient

MARKER_TAG = "fleetpatch:started-by"
# SelectNodesToPatch tags every node to patch with this (value: the execution id) and the stop
# step removes it; a run that died before that leaves it on running and hybrid nodes.
PATCH_TAG = "fleetpatch:patch-run"
INSTANCE_STATES = ("pending", "running", "stopping", "stopped")
# AutomationExecutionStatus values after which an execution never runs another step
# (API_AutomationExecution.html); every other value counts as running.
TERMINAL_STATUSES = frozenset(
    {
        "Success",
        "Failed",
        "Cancelled",
        "TimedOut",
        "CompletedWithSuccess",
        "CompletedWithFailure",
        "Rejected",
        "ChangeCalendarOverrideRejected",
        "Exited",
    }
)
# "Number of days an automation execution history is stored in the system: 30"
# (https://docs.aws.amazon.com/general/latest/gr/ssm.html, Automation quotas).
HISTORY_RETENTION_SECONDS = 30 * 86400
EXECUTION_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
PAGE_SIZE = 1000  # DescribeInstances MaxResults: 5-1000
FILTER_VALUES = 200  # values per DescribeInstances filter used here
SSM_FILTER_VALUES = 20  # values per DescribeInstanceInformation tag filter (API limit: 1-100)
INFO_PAGE_SIZE = 50  # DescribeInstanceInformation MaxResults: 5-50
STOP_BATCH = 50  # instance ids per StopInstances call (the patch run's stop step uses 50)
TAG_BATCH = 1000  # DeleteTags: "Up to 1000 resource IDs"
LAUNCH_SLACK_SECONDS = 60  # clock skew between EC2's LaunchTime and Automation's end time
TIME_BUDGET_SECONDS = 420.0  # no new execution look-ups after this (executeScript: 600 s)
MAX_IDS = 500  # longest id list in the step output (its Payload is capped at 100 KB)
RETRIES = Config(retries={"mode": "standard", "max_attempts": 10})


class Verdict(StrEnum):
    """What the janitor concluded about the execution a marker names."""

    LIVE = "live"
    FOREIGN = "foreign"
    DEAD = "dead"
    OVERDUE = "overdue"
    EXPIRED = "expired"
    MALFORMED = "malformed"
    UNKNOWN = "unknown"
    OUT_OF_TIME = "out_of_time"


CLEANED_VERDICTS = frozenset({Verdict.DEAD, Verdict.OVERDUE, Verdict.EXPIRED, Verdict.MALFORMED})


class Outcome(StrEnum):
    """What happened to one marked instance (in a dry run: what would have happened)."""

    LEFT_LIVE = "left_live"
    """Its execution is running: left alone."""
    LEFT_FOREIGN = "left_foreign"
    """Its execution belongs to another document: left alone."""
    STOPPED = "stopped"
    """Running and started by the dead run: stopped, marker removed."""
    UNTAGGED = "untagged"
    """Already stopped or stopping: marker removed."""
    UNTAGGED_LEFT_RUNNING = "untagged_left_running"
    """Running, but not started by the dead run (launched after it ended, or the marker is no
    execution id): marker removed, instance left running."""
    DEFERRED = "deferred"
    """Pending, or the time budget ran out: the next round handles it."""
    FAILED = "failed"
    """The lookup, the stop or the tag removal failed: marker kept, counted as an error."""


class JanitorError(RuntimeError):
    """The janitor could not report its work (the metrics were not published)."""


class Marked(NamedTuple):
    """An instance carrying the marker: id, EC2 state name, marker value, last launch time."""

    instance_id: str
    state: str
    marker: str
    launch_time: datetime | None


class Execution(NamedTuple):
    """The janitor's view of the execution one marker value names."""

    execution_id: str
    verdict: Verdict
    status: str | None = None
    document_name: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    detail: str = ""


class Summary:
    """Everything one janitor run found and did; ``to_dict`` is the step output.

    (Plain classes and NamedTuples, no dataclasses: the step's script need not be importable
    as a module.)
    """

    def __init__(self, dry_run: bool, document_name: str) -> None:
        """An empty summary of a run on ``document_name``'s markers."""
        self.dry_run = dry_run
        self.document_name = document_name
        self.outcomes: dict[str, tuple[Outcome, str]] = {}
        self.executions: dict[str, Execution] = {}
        self.verdicts: dict[str, Verdict] = {}
        self.api_calls: Counter[str] = Counter()
        self.metrics_published = False
        self.patch_tags_removed: list[str] = []
        self.stopped_ids: set[str] = set()  # stopped by this run, whatever the untag did
        self.patch_tag_errors: list[dict[str, str]] = []

    def record(self, instance_id: str, outcome: Outcome, detail: str = "") -> None:
        """Store the outcome of one instance (the last one wins)."""
        self.outcomes[instance_id] = (outcome, detail)

    def ids(self, *outcomes: Outcome) -> list[str]:
        """Sorted ids of the instances with one of ``outcomes``."""
        return sorted(i for i, (o, _) in self.outcomes.items() if o in outcomes)

    def counts(self) -> dict[str, int]:
        """Number of instances per outcome, every outcome present."""
        counter = Counter(o for o, _ in self.outcomes.values())
        return {o.value: counter.get(o, 0) for o in Outcome}

    def orphaned(self) -> int:
        """Marked instances whose marker names an execution that no longer runs."""
        return sum(1 for v in self.verdicts.values() if v in CLEANED_VERDICTS)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready summary (every id list capped at :data:`MAX_IDS`).

        Shape: ``{"status", "dry_run", "document_name", "marked", "outcomes": {outcome: n},
        "orphaned", "stopped", "untagged", "left_running", "left_live", "left_foreign",
        "deferred", "failed": [{"instance_id", "error"}], "executions": {verdict: [ids]},
        "api_calls": {operation: n}, "metrics_published", "patch_tags_removed": [node ids],
        "patch_tag_errors": [{"node_id", "error"}], "truncated": [list names]}``.
        """
        failed = [
            {"instance_id": i, "error": d}
            for i, (o, d) in sorted(self.outcomes.items())
            if o == Outcome.FAILED
        ]
        by_verdict: dict[str, list[str]] = {}
        for execution_id, execution in sorted(self.executions.items()):
            by_verdict.setdefault(execution.verdict.value, []).append(execution_id)
        result: dict[str, Any] = {
            "status": "error" if failed or self.patch_tag_errors else "ok",
            "dry_run": self.dry_run,
            "document_name": self.document_name,
            "marked": len(self.outcomes),
            "outcomes": self.counts(),
            "orphaned": self.orphaned(),
            "stopped": sorted(self.stopped_ids),
            "untagged": self.ids(Outcome.STOPPED, Outcome.UNTAGGED, Outcome.UNTAGGED_LEFT_RUNNING),
            "left_running": self.ids(Outcome.UNTAGGED_LEFT_RUNNING),
            "left_live": self.ids(Outcome.LEFT_LIVE),
            "left_foreign": self.ids(Outcome.LEFT_FOREIGN),
            "deferred": self.ids(Outcome.DEFERRED),
            "failed": failed,
            "executions": by_verdict,
            "api_calls": dict(sorted(self.api_calls.items())),
            "metrics_published": self.metrics_published,
            "patch_tags_removed": sorted(self.patch_tags_removed),
            "patch_tag_errors": self.patch_tag_errors,
        }
        truncated: list[str] = []
        for key, value in list(result.items()):
            if isinstance(value, list) and len(value) > MAX_IDS:
                result[key] = value[:MAX_IDS]
                truncated.append(key)
        result["truncated"] = truncated
        return result


def _chunks(items: Sequence[str], size: int) -> list[list[str]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _text(err: ClientError) -> str:
    error = err.response.get("Error", {})
    return f"{error.get('Code', '')}: {error.get('Message', '')}"


def _utc(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def find_tagged(
    ec2: EC2Client, group_tag_key: str, groups: Sequence[str], *, page_size: int = PAGE_SIZE
) -> tuple[list[Marked], dict[str, str]]:
    """Return the instances of ``groups`` with the marker, and those with the patch-set tag.

    One search for both: EC2 DescribeInstances through its paginator with the filters
    ``tag-key = fleetpatch:started-by or fleetpatch:patch-run``, ``tag:<group_tag_key>`` (200
    groups a call) and ``instance-state-name`` pending/running/stopping/stopped (terminated
    instances lose their tags' meaning).

    Returns:
        ``(marked, patch_tagged)``: the :class:`Marked` instances sorted by id, and
        ``{instance id: patch-set tag value}``.

    Raises:
        ValueError: no patch group or an empty tag key.
        botocore.exceptions.ClientError: from DescribeInstances.
    """
    if not groups or not group_tag_key.strip():
        raise ValueError("PatchGroupTagKey and at least one PatchGroups value are required")
    paginator = ec2.get_paginator("describe_instances")
    found: dict[str, Marked] = {}
    patch_tagged: dict[str, str] = {}
    for batch in _chunks(sorted(set(groups)), FILTER_VALUES):
        pages = paginator.paginate(
            Filters=[
                {"Name": "tag-key", "Values": [MARKER_TAG, PATCH_TAG]},
                {"Name": f"tag:{group_tag_key}", "Values": batch},
                {"Name": "instance-state-name", "Values": list(INSTANCE_STATES)},
            ],
            PaginationConfig={"PageSize": page_size},
        )
        for page in pages:
            for reservation in page.get("Reservations", []):
                for item in reservation.get("Instances", []):
                    tags = {t.get("Key"): t.get("Value", "") for t in item.get("Tags", [])}
                    instance_id = str(item["InstanceId"])
                    if PATCH_TAG in tags:
                        patch_tagged[instance_id] = str(tags[PATCH_TAG])
                    if MARKER_TAG not in tags:
                        continue
                    found[instance_id] = Marked(
                        instance_id=instance_id,
                        state=str(item.get("State", {}).get("Name", "")),
                        marker=str(tags[MARKER_TAG]),
                        launch_time=_utc(item.get("LaunchTime")),
                    )
    return [found[i] for i in sorted(found)], patch_tagged


def find_marked(
    ec2: EC2Client, group_tag_key: str, groups: Sequence[str], *, page_size: int = PAGE_SIZE
) -> list[Marked]:
    """Return every instance of ``groups`` that carries the marker, sorted by id.

    :func:`find_tagged`'s first half (same call, same errors).
    """
    return find_tagged(ec2, group_tag_key, groups, page_size=page_size)[0]


def find_patch_tagged_hybrid(
    ssm: SSMClient, group_tag_key: str, groups: Sequence[str]
) -> dict[str, str]:
    """Return ``{node id: value}`` of the hybrid nodes of ``groups`` with the patch-set tag.

    DescribeInstanceInformation (paginator, 50 a page; filters ``tag-key = fleetpatch:patch-run``
    and ``tag:<group_tag_key>`` 20 groups a call: tag filters only, as "tag filters can't be
    combined with other filter types"), keeping the ``mi-`` nodes, then ListTagsForResource per
    node found (DescribeInstanceInformation returns no tag values).

    Raises:
        botocore.exceptions.ClientError: from the calls.
    """
    hybrid: list[str] = []
    for batch in _chunks(sorted(set(groups)), SSM_FILTER_VALUES):
        pages = ssm.get_paginator("describe_instance_information").paginate(
            Filters=[
                {"Key": "tag-key", "Values": [PATCH_TAG]},
                {"Key": f"tag:{group_tag_key}", "Values": batch},
            ],
            PaginationConfig={"PageSize": INFO_PAGE_SIZE},
        )
        for info_page in pages:
            hybrid.extend(
                str(n["InstanceId"])
                for n in info_page.get("InstanceInformationList", [])
                if str(n.get("InstanceId", "")).startswith("mi-")
            )
    found: dict[str, str] = {}
    for node_id in sorted(set(hybrid)):
        listed = ssm.list_tags_for_resource(ResourceType="ManagedInstance", ResourceId=node_id)
        for tag in listed.get("TagList", []):
            if tag.get("Key") == PATCH_TAG:
                found[node_id] = str(tag.get("Value", ""))
    return found


def _same_document(name: str | None, wanted: str) -> bool:
    return name is not None and (name == wanted or name.rsplit("/", 1)[-1] == wanted)


def classify(
    ssm: SSMClient, marker: str, document_name: str, grace_seconds: float, now: datetime
) -> Execution:
    """Decide whether the execution ``marker`` names still runs (AWS API: GetAutomationExecution).

    Returns:
        An :class:`Execution` with its :class:`Verdict` (see the module docstring). Errors of
        the look-up give ``unknown`` with the error in ``detail``; none is raised.
    """
    if not EXECUTION_ID.fullmatch(marker):
        return Execution(marker, Verdict.MALFORMED, detail="not an Automation execution id")
    try:
        found = ssm.get_automation_execution(AutomationExecutionId=marker)["AutomationExecution"]
    except ClientError as err:
        if _code(err) == "AutomationExecutionNotFoundException":
            return Execution(marker, Verdict.EXPIRED, detail=_text(err))
        return Execution(marker, Verdict.UNKNOWN, detail=f"lookup failed: {_text(err)}")
    status = str(found.get("AutomationExecutionStatus", ""))
    name = found.get("DocumentName")
    start = _utc(found.get("ExecutionStartTime"))
    if not _same_document(name, document_name):
        verdict, detail = Verdict.FOREIGN, f"document {name}"
    elif status in TERMINAL_STATUSES:
        verdict, detail = Verdict.DEAD, status
    elif start is not None and (now - start).total_seconds() > grace_seconds:
        verdict, detail = Verdict.OVERDUE, f"{status} past the grace period"
    else:
        verdict, detail = Verdict.LIVE, status
    return Execution(
        marker,
        verdict,
        status=status,
        document_name=name,
        start=start,
        end=_utc(found.get("ExecutionEndTime")),
        detail=detail,
    )


def started_by_run(
    marked: Marked, execution: Execution, now: datetime, grace_seconds: float
) -> bool:
    """Whether the (cleaned) execution can have started ``marked`` as EC2 shows it now.

    ``LaunchTime`` is the last time the instance was launched (started): an instance launched
    after the run ended was started by someone else. For an expired execution the run began
    before ``now - 30 days`` and ended at most ``grace_seconds`` later. A malformed marker was
    written by no run. Without a launch time (or an end time, for an overdue run) the run is
    assumed to have started it, as the marker says.
    """
    if execution.verdict == Verdict.MALFORMED:
        return False
    launched = marked.launch_time
    if launched is None:
        return True
    slack = timedelta(seconds=LAUNCH_SLACK_SECONDS)
    if execution.verdict == Verdict.EXPIRED:
        latest_end = now - timedelta(seconds=HISTORY_RETENTION_SECONDS - grace_seconds)
        return launched <= latest_end + slack
    if execution.end is None:
        return True
    return launched <= execution.end + slack


class Janitor:
    """One janitor run with the given clients and settings (no AWS call until :meth:`run`)."""

    def __init__(
        self,
        ec2: EC2Client,
        ssm: SSMClient,
        *,
        document_name: str,
        group_tag_key: str,
        groups: Sequence[str],
        grace_seconds: float,
        dry_run: bool = False,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        clock: Callable[[], float] = time.monotonic,
        time_budget: float = TIME_BUDGET_SECONDS,
    ) -> None:
        """Store the settings; ``now``/``clock``/``time_budget`` are for tests."""
        self._ec2 = ec2
        self._ssm = ssm
        self._groups = list(groups)
        self._group_tag_key = group_tag_key
        self._grace = float(grace_seconds)
        self._dry_run = dry_run
        self._now = now
        self._clock = clock
        self._budget = time_budget
        self.summary = Summary(dry_run=dry_run, document_name=document_name)
        for client in (ec2, ssm):
            client.meta.events.register("before-parameter-build.*.*", self._count)

    def _count(self, model: Any = None, **_: Any) -> None:
        if model is not None:
            self.summary.api_calls[str(model.name)] += 1

    def run(self) -> Summary:
        """Find the marked instances, classify their executions and clean up the dead ones.

        AWS APIs: ec2:DescribeInstances, ssm:GetAutomationExecution,
        ssm:DescribeInstanceInformation, ssm:ListTagsForResource, and unless dry-running
        ec2:StopInstances, ec2:DeleteTags (marker or patch-set tag, key and value) and
        ssm:RemoveTagsFromResource (patch-set tag key of hybrid nodes).

        Raises:
            ValueError: see :func:`find_marked`.
            botocore.exceptions.ClientError: from DescribeInstances or
                DescribeInstanceInformation / ListTagsForResource (the patch-set tag search,
                after the markers were handled); per-node errors are recorded, not raised.
        """
        started = self._clock()
        now = self._now()
        marked, patch_tagged = find_tagged(self._ec2, self._group_tag_key, self._groups)
        executions = self.summary.executions
        for marker in sorted({m.marker for m in marked}):
            if self._clock() - started > self._budget:
                executions[marker] = Execution(marker, Verdict.OUT_OF_TIME, detail="time budget")
            else:
                executions[marker] = classify(
                    self._ssm, marker, self.summary.document_name, self._grace, now
                )
        to_stop: list[Marked] = []
        to_untag: list[Marked] = []
        for item in marked:
            execution = executions[item.marker]
            verdict = execution.verdict
            self.summary.verdicts[item.instance_id] = verdict
            if verdict == Verdict.LIVE:
                self.summary.record(item.instance_id, Outcome.LEFT_LIVE, execution.execution_id)
            elif verdict == Verdict.FOREIGN:
                self.summary.record(item.instance_id, Outcome.LEFT_FOREIGN, execution.detail)
            elif verdict == Verdict.OUT_OF_TIME:
                self.summary.record(item.instance_id, Outcome.DEFERRED, "time budget")
            elif verdict == Verdict.UNKNOWN:
                self.summary.record(item.instance_id, Outcome.FAILED, execution.detail)
            elif item.state == "pending":
                self.summary.record(item.instance_id, Outcome.DEFERRED, "pending")
            elif item.state == "running" and started_by_run(item, execution, now, self._grace):
                to_stop.append(item)
            else:
                to_untag.append(item)
        stopped = self._stop(to_stop)
        # Counted now: an untag refused below must not hide a stop that happened.
        self.summary.stopped_ids |= stopped
        self._untag(
            [(m, Outcome.STOPPED) for m in to_stop if m.instance_id in stopped]
            + [
                (m, Outcome.UNTAGGED_LEFT_RUNNING if m.state == "running" else Outcome.UNTAGGED)
                for m in to_untag
            ]
        )
        self._clean_patch_tags(patch_tagged, started, now)
        return self.summary

    def _clean_patch_tags(
        self, patch_tagged: dict[str, str], started: float, now: datetime
    ) -> None:
        """Remove the patch-set tag of executions that no longer run (see the module docstring).

        ``patch_tagged``: the EC2 instances found with the tag (``{id: value}``); the hybrid
        nodes are looked up here. Executions already looked up for markers are not looked up
        again. A failed removal is recorded in ``patch_tag_errors`` and the tag kept.

        Raises:
            botocore.exceptions.ClientError: from the hybrid search.
        """
        tagged = dict(patch_tagged)
        tagged.update(find_patch_tagged_hybrid(self._ssm, self._group_tag_key, self._groups))
        executions = self.summary.executions
        for value in sorted(set(tagged.values()) - set(executions)):
            if self._clock() - started > self._budget:
                executions[value] = Execution(value, Verdict.OUT_OF_TIME, detail="time budget")
            else:
                executions[value] = classify(
                    self._ssm, value, self.summary.document_name, self._grace, now
                )
        by_value: dict[str, list[str]] = {}
        for node_id, value in sorted(tagged.items()):
            verdict = executions[value].verdict
            if verdict in CLEANED_VERDICTS:
                by_value.setdefault(value, []).append(node_id)
            elif verdict == Verdict.UNKNOWN:
                self.summary.patch_tag_errors.append(
                    {"node_id": node_id, "error": executions[value].detail}
                )
        for value, ids in by_value.items():
            ec2_ids = [i for i in ids if i.startswith("i-")]
            for batch in _chunks(ec2_ids, TAG_BATCH):
                self._remove_patch_tag(batch, value)
            for node_id in (i for i in ids if not i.startswith("i-")):
                self._remove_hybrid_patch_tag(node_id, value)

    def _remove_patch_tag(self, batch: list[str], value: str) -> None:
        """DeleteTags of ``fleetpatch:patch-run`` with its value; a refused batch one by one."""
        if self._dry_run:
            self.summary.patch_tags_removed.extend(batch)
            return
        tags: Any = [{"Key": PATCH_TAG, "Value": value}]
        try:
            self._ec2.delete_tags(Resources=batch, Tags=tags)
            self.summary.patch_tags_removed.extend(batch)
            return
        except ClientError as err:
            if len(batch) == 1:
                self.summary.patch_tag_errors.append({"node_id": batch[0], "error": _text(err)})
                return
        for instance_id in batch:
            try:
                self._ec2.delete_tags(Resources=[instance_id], Tags=tags)
                self.summary.patch_tags_removed.append(instance_id)
            except ClientError as err:
                self.summary.patch_tag_errors.append({"node_id": instance_id, "error": _text(err)})

    def _remove_hybrid_patch_tag(self, node_id: str, value: str) -> None:
        """RemoveTagsFromResource of the patch-set tag of a hybrid node (found with ``value``)."""
        if self._dry_run:
            self.summary.patch_tags_removed.append(node_id)
            return
        try:
            self._ssm.remove_tags_from_resource(
                ResourceType="ManagedInstance", ResourceId=node_id, TagKeys=[PATCH_TAG]
            )
            self.summary.patch_tags_removed.append(node_id)
        except ClientError as err:
            self.summary.patch_tag_errors.append({"node_id": node_id, "error": _text(err)})

    def _stop(self, items: list[Marked]) -> set[str]:
        """StopInstances in batches; a refused batch is retried one instance at a time."""
        ids = [m.instance_id for m in items]
        if self._dry_run:
            return set(ids)
        done: set[str] = set()
        for batch in _chunks(ids, STOP_BATCH):
            done |= self._each(batch, lambda b: self._ec2.stop_instances(InstanceIds=b), "stop")
        return done

    def _untag(self, items: list[tuple[Marked, Outcome]]) -> None:
        """DeleteTags of the marker with its own value, grouped by value, 1000 ids a call.

        Each instance is recorded with its outcome once its marker is gone.
        """
        by_marker: dict[str, dict[str, Outcome]] = {}
        for item, outcome in items:
            by_marker.setdefault(item.marker, {})[item.instance_id] = outcome
        for marker, outcomes in sorted(by_marker.items()):
            for batch in _chunks(sorted(outcomes), TAG_BATCH):
                if self._dry_run:
                    done = set(batch)
                else:
                    done = self._each(batch, partial(self._delete_marker, marker), "untag")
                for instance_id in batch:
                    if instance_id in done:
                        self.summary.record(instance_id, outcomes[instance_id], marker)

    def _delete_marker(self, marker: str, ids: list[str]) -> None:
        self._ec2.delete_tags(Resources=ids, Tags=[{"Key": MARKER_TAG, "Value": marker}])

    def _each(self, batch: list[str], call: Callable[[list[str]], Any], what: str) -> set[str]:
        """``call(batch)``; on a ClientError, ``call([id])`` for each id to isolate failures.

        EC2 authorizes and validates a whole request: one instance it refuses (state, IAM)
        fails the call for all. Returns the ids the call succeeded for; failures are recorded.
        """
        try:
            call(batch)
            return set(batch)
        except ClientError as err:
            if len(batch) == 1:
                self.summary.record(batch[0], Outcome.FAILED, f"{what}: {_text(err)}")
                return set()
        done: set[str] = set()
        for instance_id in batch:
            try:
                call([instance_id])
                done.add(instance_id)
            except ClientError as err:
                self.summary.record(instance_id, Outcome.FAILED, f"{what}: {_text(err)}")
        return done


def metric_data(summary: Summary, now: datetime) -> list[dict[str, Any]]:
    """The CloudWatch datums of one run (Count, dimension ``DocumentName``), zeros included.

    ``MarkedInstances``, ``LiveMarkers``, ``ForeignMarkers``, ``OrphanedMarkers``,
    ``InstancesStopped``, ``MarkersRemoved``, ``DeferredInstances``, ``CleanupErrors`` (markers
    and patch-set tags), ``PatchTagsRemoved``.
    """
    counts = summary.counts()
    values = {
        "MarkedInstances": len(summary.outcomes),
        "LiveMarkers": counts[Outcome.LEFT_LIVE],
        "ForeignMarkers": counts[Outcome.LEFT_FOREIGN],
        "OrphanedMarkers": summary.orphaned(),
        "InstancesStopped": len(summary.stopped_ids),
        "MarkersRemoved": counts[Outcome.STOPPED]
        + counts[Outcome.UNTAGGED]
        + counts[Outcome.UNTAGGED_LEFT_RUNNING],
        "DeferredInstances": counts[Outcome.DEFERRED],
        "CleanupErrors": counts[Outcome.FAILED] + len(summary.patch_tag_errors),
        "PatchTagsRemoved": len(summary.patch_tags_removed),
    }
    dimensions = [{"Name": "DocumentName", "Value": summary.document_name}]
    return [
        {
            "MetricName": name,
            "Dimensions": dimensions,
            "Timestamp": now,
            "Value": float(value),
            "Unit": "Count",
        }
        for name, value in values.items()
    ]


def publish(cloudwatch: CloudWatchClient, namespace: str, summary: Summary, now: datetime) -> None:
    """One PutMetricData call with :func:`metric_data` (skipped for an empty namespace).

    Raises:
        botocore.exceptions.ClientError: from PutMetricData.
    """
    if not namespace:
        return
    cloudwatch.put_metric_data(Namespace=namespace, MetricData=metric_data(summary, now))  # type: ignore[arg-type]
    summary.api_calls["PutMetricData"] += 1
    summary.metrics_published = True


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"true", "1", "yes"}


def _groups(value: Any) -> list[str]:
    if isinstance(value, str):
        return [g.strip() for g in value.split(",") if g.strip()]
    if isinstance(value, Iterable):
        return [str(g).strip() for g in value if str(g).strip()]
    return []


def run(
    events: dict[str, Any],
    ec2: EC2Client,
    ssm: SSMClient,
    cloudwatch: CloudWatchClient,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """The step's logic: clean up, publish the metrics, print and return one summary.

    ``events`` (the step's InputPayload): ``PatchRunDocumentName``, ``PatchGroupTagKey``,
    ``PatchGroups`` (list), ``GracePeriodSeconds`` (int), ``MetricsNamespace`` (empty: no
    metrics), ``DryRun`` (bool).

    Returns:
        The step output: ``Summary`` (see :meth:`Summary.to_dict`) and, for the document
        outputs, ``StoppedInstanceIds``, ``UntaggedInstanceIds``, ``FailedInstanceIds``,
        ``LiveInstanceIds``, ``OrphanedCount``, ``ErrorCount``, ``SummaryJson``,
        ``PatchTagsRemovedIds``.

    Raises:
        ValueError: bad inputs (no group, a grace period below 0).
        JanitorError: the metrics could not be published (the message holds the summary).
        botocore.exceptions.ClientError: from DescribeInstances.
    """
    grace = float(events.get("GracePeriodSeconds", 0))
    if grace < 0:
        raise ValueError("GracePeriodSeconds must not be negative")
    janitor = Janitor(
        ec2,
        ssm,
        document_name=str(events.get("PatchRunDocumentName", "")),
        group_tag_key=str(events.get("PatchGroupTagKey", "")),
        groups=_groups(events.get("PatchGroups", [])),
        grace_seconds=grace,
        dry_run=_bool(events.get("DryRun", False)),
        now=now,
        clock=clock,
    )
    summary = janitor.run()
    publish_error: ClientError | None = None
    try:
        publish(cloudwatch, str(events.get("MetricsNamespace", "") or ""), summary, now())
    except ClientError as err:
        publish_error = err
    record = summary.to_dict()
    print(json.dumps({"message": "patch janitor summary", "summary": record}, sort_keys=True))
    if publish_error is not None:
        raise JanitorError(
            f"could not publish the janitor metrics ({_text(publish_error)}); "
            f"summary: {json.dumps(record, sort_keys=True)}"
        )
    return {
        "Summary": record,
        "SummaryJson": json.dumps(record, sort_keys=True),
        "StoppedInstanceIds": record["stopped"],
        "UntaggedInstanceIds": record["untagged"],
        "FailedInstanceIds": [f["instance_id"] for f in record["failed"]],
        "LiveInstanceIds": record["left_live"],
        "OrphanedCount": record["orphaned"],
        "ErrorCount": len(record["failed"]) + len(record["patch_tag_errors"]),
        "PatchTagsRemovedIds": record["patch_tags_removed"],
    }


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """``aws:executeScript`` entry point: :func:`run` with clients of the assume role.

    Raises:
        ValueError, JanitorError, botocore.exceptions.ClientError: see :func:`run`.
    """
    return run(
        events,
        boto3.client("ec2", config=RETRIES),
        boto3.client("ssm", config=RETRIES),
        boto3.client("cloudwatch", config=RETRIES),
    )
