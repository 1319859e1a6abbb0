"""Per-instance outcomes and the one structured summary each invocation returns and logs."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    """What happened to one instance (in dry-run mode: what would have happened)."""

    COMPLIANT = "compliant"
    """Already able to reach SSM; nothing done."""
    PROFILE_ASSOCIATED = "profile_associated"
    """Had no instance profile; the configured SSM profile was associated."""
    ROLE_ADDED = "role_added"
    """Its profile -- fleetpatch's own SSM profile -- had no role; the configured SSM role was
    added back to it."""
    EMPTY_PROFILE = "empty_profile"
    """Its instance profile is not fleetpatch's and has no role: someone emptied it (incident
    responders quarantine an instance this way). Left alone and reported: the role check never
    puts a role into a profile it does not own, and never replaces a profile."""
    POLICY_ATTACHED = "policy_attached"
    """Its role lacked SSM permissions; the managed policy (and the node log policy, when
    configured and missing) was attached to the role."""
    LOG_POLICY_ATTACHED = "log_policy_attached"
    """Its role reached SSM but lacked the configured node log policy; only that was attached."""
    ALREADY_ASSOCIATED = "already_associated"
    """Another invocation associated the SSM profile first (concurrent run); converged."""
    DEFERRED = "deferred"
    """Not yet in a state that accepts an association; the running event or next sweep acts."""
    OPTED_OUT = "opted_out"
    """Carries the opt-out tag; left alone."""
    NOT_FOUND = "not_found"
    """Asked for by id but not found in pending/running/stopping/stopped (e.g. terminated)."""
    BLOCKED_BY_DENY = "blocked_by_deny"
    """An explicit Deny blocks SSM actions on its role; attaching a policy would not help."""
    BLOCKED_BY_BOUNDARY = "blocked_by_boundary"
    """Its role's permissions boundary provably denies an SSM core action (an unconditional
    Deny, or no Allow covering it); a policy attached to the role could not take effect, so none
    is attached and the instance is not fixed. (A boundary that can be proven neither way does
    not block: see ``Summary.boundary_unproven``.)"""
    NOT_ALLOWED_TO_MODIFY = "not_allowed_to_modify"
    """Its role needs a policy but is outside the roles the check may modify (the configured
    path prefix or required tag); left alone and reported."""
    ACCESS_DENIED = "access_denied"
    """The function was not allowed to read or change what this instance needs."""
    FAILED = "failed"
    """Another AWS error; recorded, the run goes on."""


CHANGED_OUTCOMES = frozenset(
    {
        Outcome.PROFILE_ASSOCIATED,
        Outcome.ROLE_ADDED,
        Outcome.POLICY_ATTACHED,
        Outcome.LOG_POLICY_ATTACHED,
    }
)
FAILED_OUTCOMES = frozenset(
    {Outcome.BLOCKED_BY_DENY, Outcome.BLOCKED_BY_BOUNDARY, Outcome.ACCESS_DENIED, Outcome.FAILED}
)


@dataclass(frozen=True)
class Result:
    """The outcome for one instance, with the AWS error code/message when it failed."""

    outcome: Outcome
    detail: str | None = None


@dataclass
class Summary:
    """Everything one invocation did: per-instance results and the mutating calls made.

    ``changes`` counts mutating API calls that succeeded (or, in dry-run mode, would have been
    made) by operation name; a role or profile shared by many instances is changed once.
    ``policies_attached`` counts the same AttachRolePolicy calls by policy ARN (the managed
    policy and the node log policy), i.e. the number of roles each policy was attached to.
    """

    trigger: str | None
    dry_run: bool
    results: dict[str, Result] = field(default_factory=dict)
    changes: Counter[str] = field(default_factory=Counter)
    policies_attached: Counter[str] = field(default_factory=Counter)
    roles_changed: set[str] = field(default_factory=set)
    profiles_changed: set[str] = field(default_factory=set)
    boundary_unproven: dict[str, str] = field(default_factory=dict)
    """Roles (name -> reason) whose permissions boundary neither provably allows nor denies the
    SSM core actions (e.g. a conditional Deny): handled as usual, reported for the operator."""
    error: str | None = None
    api_calls: int | None = None

    def record(self, instance_id: str, result: Result) -> None:
        """Store the result of one instance (the last one wins)."""
        self.results[instance_id] = result

    def counts(self) -> dict[str, int]:
        """Number of instances per outcome, every outcome present (zeros included)."""
        counter = Counter(r.outcome for r in self.results.values())
        return {o.value: counter.get(o, 0) for o in Outcome}

    def to_dict(self, max_ids: int | None = None) -> dict[str, Any]:
        """The summary as a JSON-ready dict.

        Args:
            max_ids: keep at most this many entries in each id list (for a log line, which
                CloudWatch Logs caps at 256 KiB); ``truncated`` then names the shortened lists.
                ``None`` keeps everything.

        Shape: ``{"status": "ok"|"error", "error": str|None, "trigger": str|None,
        "dry_run": bool, "instances": int, "outcomes": {outcome: count}, "changes":
        {operation: count}, "policies_attached": {policy_arn: roles}, "changed_instance_ids":
        [...], "failed": [{"instance_id", "outcome", "error"}], "opted_out_instance_ids": [...],
        "deferred_instance_ids": [...], "not_allowed_to_modify": [{"instance_id", "reason"}],
        "roles_changed": [...], "profiles_changed": [...], "boundary_unproven": [{"role",
        "reason"}], "api_calls": int|None,
        "truncated": [list names]}``.
        """
        ids_by: dict[Outcome, list[str]] = {}
        for instance_id in sorted(self.results):
            ids_by.setdefault(self.results[instance_id].outcome, []).append(instance_id)
        failed = [
            {"instance_id": i, "outcome": r.outcome.value, "error": r.detail}
            for i, r in sorted(self.results.items())
            if r.outcome in FAILED_OUTCOMES
        ]
        result: dict[str, Any] = {
            "status": "error" if self.error else "ok",
            "error": self.error,
            "trigger": self.trigger,
            "dry_run": self.dry_run,
            "instances": len(self.results),
            "outcomes": self.counts(),
            "changes": dict(sorted(self.changes.items())),
            "policies_attached": dict(sorted(self.policies_attached.items())),
            "changed_instance_ids": sorted(
                i for i, r in self.results.items() if r.outcome in CHANGED_OUTCOMES
            ),
            "failed": failed,
            "opted_out_instance_ids": ids_by.get(Outcome.OPTED_OUT, []),
            "deferred_instance_ids": ids_by.get(Outcome.DEFERRED, []),
            "not_allowed_to_modify": [
                {"instance_id": i, "reason": r.detail}
                for i, r in sorted(self.results.items())
                if r.outcome == Outcome.NOT_ALLOWED_TO_MODIFY
            ],
            "roles_changed": sorted(self.roles_changed),
            "profiles_changed": sorted(self.profiles_changed),
            "boundary_unproven": [
                {"role": name, "reason": reason}
                for name, reason in sorted(self.boundary_unproven.items())
            ],
            "api_calls": self.api_calls,
        }
        truncated: list[str] = []
        if max_ids is not None:
            for key, value in result.items():
                if isinstance(value, list) and len(value) > max_ids:
                    result[key] = value[:max_ids]
                    truncated.append(key)
        result["truncated"] = truncated
        return result
