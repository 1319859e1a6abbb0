"""One tag enforcement run over every configured subscription, and its summary.

For each subscription the VMs are listed page by page (List All without ``statusOnly``: tags and
OS type); each VM's plan (:func:`plan_vm`) is worked out as it arrives, and the VMs that lack
required tags get one merge each, at most ``max_concurrency`` at a time, while later pages are
still being listed: right before its PATCH, each merge reads the VM's tags again (Tags - Get At
Scope) and drops the names set since the listing (:func:`fleetpatch_tags.arm.merge_tags`), so
a value someone set while the run waited for ARM's write tokens is never overwritten. Then a
``statusOnly=true`` pass reads every VM's power state for the export. One VM's failure is
recorded and the run goes on; a subscription whose listing fails is recorded and the run moves
to the next subscription. A VM that reports no OS type is counted
and listed in the summary (``unknown_os``) and logged: rules derived from the OS type cannot be
applied to it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from azure.core.exceptions import AzureError

from fleetpatch_tags.arm import ArmClients, VmRecord, list_power_states, list_vms, merge_tags
from fleetpatch_tags.config import Settings
from fleetpatch_tags.rules import TagPlan, plan_tags

LOG = logging.getLogger("fleetpatch_tags")

# Outcome of one VM.
COMPLIANT = "compliant"  # carried every required tag already
TAGGED = "tagged"  # the missing tags were added
WOULD_TAG = "would_tag"  # dry run: the missing tags would have been added
CANNOT_TAG = "cannot_tag"  # some required tag cannot be added (50-tag limit, no derivable value)
FAILED = "failed"  # the merge failed (after retries)
OUTCOMES = (COMPLIANT, TAGGED, WOULD_TAG, CANNOT_TAG, FAILED)


@dataclass(frozen=True)
class VmResult:
    """What the run did to one VM.

    Attributes:
        vm: the VM as listed, with ``tags`` updated to the merge result when tags were added.
        outcome: one of :data:`OUTCOMES`.
        added: tags added (or, in a dry run or after a failure, that would have been added).
        applied: whether the merge was made (``added`` is on the VM now).
        blocked: required tags that cannot be added, ``{name: reason}``.
        error: the failure message for ``failed``.
    """

    vm: VmRecord
    outcome: str
    added: dict[str, str] = field(default_factory=dict)
    blocked: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    applied: bool = False


@dataclass
class RunSummary:
    """The structured result of one run (:meth:`as_dict` is what gets logged)."""

    run_id: str
    dry_run: bool
    subscriptions: tuple[str, ...]
    results: list[VmResult] = field(default_factory=list)
    subscription_errors: dict[str, str] = field(default_factory=dict)
    export: dict[str, Any] = field(default_factory=lambda: {"status": "disabled"})
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when no VM, subscription listing or export failed."""
        return (
            not self.subscription_errors
            and all(r.outcome != FAILED for r in self.results)
            and self.export.get("status") != "failed"
        )

    def as_dict(self, max_items: int | None = None) -> dict[str, Any]:
        """The summary as JSON-ready data.

        Shape: ``{"run_id", "dry_run", "ok", "seconds", "subscriptions": [...], "vms": int,
        "outcomes": {outcome: count}, "tags_added": int, "unknown_os": int, "changed": [vm id],
        "failed": [{"id", "error"}], "skipped": [{"id", "blocked": {tag: reason}}],
        "unknown_os_vms": [vm id], "subscription_errors": {sub: error}, "export": {...}}``.
        ``unknown_os`` counts the VMs whose listing carries no
        ``storageProfile.osDisk.osType`` (``unknown_os_vms`` lists them); it does not change
        ``ok`` (their OS-derived tags are in ``skipped``).

        Args:
            max_items: keep at most this many entries in ``changed``, ``failed``, ``skipped``
                and ``unknown_os_vms`` (a log line has a size limit); ``"<list>_omitted"`` then
                counts the rest.
        """
        counts = Counter(r.outcome for r in self.results)
        lists: dict[str, list[Any]] = {
            "changed": [r.vm.id for r in self.results if r.applied],
            "failed": [{"id": r.vm.id, "error": r.error} for r in self.results if r.error],
            "skipped": [{"id": r.vm.id, "blocked": r.blocked} for r in self.results if r.blocked],
            "unknown_os_vms": [r.vm.id for r in self.results if r.vm.os_type is None],
        }
        data: dict[str, Any] = {
            "run_id": self.run_id,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "subscriptions": list(self.subscriptions),
            "vms": len(self.results),
            "outcomes": {o: counts.get(o, 0) for o in OUTCOMES},
            "tags_added": sum(len(r.added) for r in self.results if r.applied),
            "unknown_os": len(lists["unknown_os_vms"]),
        }
        for name, items in lists.items():
            data[name] = items if max_items is None else items[:max_items]
            if max_items is not None and len(items) > max_items:
                data[f"{name}_omitted"] = len(items) - max_items
        data["subscription_errors"] = dict(self.subscription_errors)
        data["export"] = dict(self.export)
        return data


def plan_vm(vm: VmRecord, settings: Settings) -> TagPlan:
    """Work out the tags ``vm`` lacks under the configured rules (no Azure call)."""
    wanted: dict[str, str | None] = {}
    reasons: dict[str, str] = {}
    for rule in settings.rules:
        value, reason = rule.value_for(vm.resource_group, vm.os_type)
        wanted[rule.name] = value
        if value is None:
            reasons[rule.name] = reason
    return plan_tags(vm.tags, wanted, reasons)


def _apply(vm: VmRecord, plan: TagPlan, clients: ArmClients, settings: Settings) -> VmResult:
    if plan.compliant:
        return VmResult(vm, COMPLIANT)
    if not plan.add:
        return VmResult(vm, CANNOT_TAG, blocked=plan.blocked)
    if settings.dry_run:
        outcome = CANNOT_TAG if plan.blocked else WOULD_TAG
        return VmResult(vm, outcome, added=plan.add, blocked=plan.blocked)
    try:
        merged = merge_tags(clients, vm.id, plan.add, settings)
    except AzureError as exc:
        message = getattr(exc, "message", None) or str(exc)
        LOG.warning("tag merge failed for %s: %s", vm.id, message)
        return VmResult(vm, FAILED, added=plan.add, blocked=plan.blocked, error=message)
    # The merge re-read the tags: names set by someone since the listing were left alone.
    blocked = {**plan.blocked, **merged.blocked}
    now = replace(vm, tags=merged.after)
    if not merged.added:
        return VmResult(now, CANNOT_TAG if blocked else COMPLIANT, blocked=blocked)
    outcome = CANNOT_TAG if blocked else TAGGED
    return VmResult(now, outcome, added=merged.added, blocked=blocked, applied=True)


def enforce(
    settings: Settings,
    clients_for: Callable[[str], ArmClients],
    run_id: str,
    clock: Callable[[], float] = time.monotonic,
) -> RunSummary:
    """Enforce the required tags on every VM of every configured subscription.

    Args:
        settings: the validated run settings.
        clients_for: subscription id -> its :class:`ArmClients` (built lazily, per subscription).
        run_id: identifier of this run (export object names, logs).
        clock: monotonic seconds, for the summary's duration.

    Returns:
        The :class:`RunSummary`; results are in listing order. Calls Compute List All (one
        request per page) and, per VM that lacks a tag it can take, Tags - Get At Scope then
        one Tags merge PATCH of the names still missing at that moment (none when the VM got
        them since the listing; no read and no write in a dry run). Never raises for an Azure
        failure: a failed listing is recorded in ``subscription_errors``, a failed merge in the
        VM's result.
    """
    start = clock()
    summary = RunSummary(
        run_id=run_id, dry_run=settings.dry_run, subscriptions=settings.subscriptions
    )
    for subscription in settings.subscriptions:
        clients = clients_for(subscription)
        try:
            results, error = _enforce_subscription(clients, settings)
        finally:
            clients.close()
        summary.results.extend(results)
        if error is not None:
            LOG.error("listing VMs of subscription %s failed: %s", subscription, error)
            summary.subscription_errors[subscription] = error
    summary.seconds = clock() - start
    return summary


def _enforce_subscription(
    clients: ArmClients, settings: Settings
) -> tuple[list[VmResult], str | None]:
    """Results of one subscription, and the listing error that cut it short (if any)."""
    slots = threading.BoundedSemaphore(settings.max_concurrency * 2)
    ordered: list[Future[VmResult] | VmResult] = []
    error: str | None = None
    with ThreadPoolExecutor(
        max_workers=settings.max_concurrency, thread_name_prefix="tag-merge"
    ) as pool:
        try:
            for vm in list_vms(clients, settings):
                plan = plan_vm(vm, settings)
                if plan.compliant or not plan.add or settings.dry_run:
                    ordered.append(_apply(vm, plan, clients, settings))
                    continue
                slots.acquire()  # keep the queue short: listing waits for PATCH slots
                future = pool.submit(_apply, vm, plan, clients, settings)
                future.add_done_callback(lambda _f: slots.release())
                ordered.append(future)
        except (AzureError, ValueError) as exc:
            # Merges already started still finish and are reported.
            error = getattr(exc, "message", None) or str(exc)
        results = [item.result() if isinstance(item, Future) else item for item in ordered]
    power: dict[str, str | None] = {}
    if error is None:  # after the merges: at most max_concurrency requests in flight
        try:
            power = list_power_states(clients, settings)
        except AzureError as exc:
            message = getattr(exc, "message", None) or str(exc)
            error = f"power-state listing (statusOnly=true) failed: {message}"
    results = [
        replace(r, vm=replace(r.vm, power_state=power.get(r.vm.id.lower()))) if power else r
        for r in results
    ]
    unknown = [r.vm.id for r in results if r.vm.os_type is None]
    if unknown:
        LOG.warning(
            "%d VM(s) of subscription %s report no OS type (storageProfile.osDisk.osType), e.g. "
            "%s: tags derived from the OS type cannot be added to them",
            len(unknown),
            clients.subscription_id,
            ", ".join(unknown[:5]),
        )
    return results, error
