"""The decisions and the (only) changes of the role check.

Per instance (see :class:`~.summary.Outcome`): no profile -> associate the configured profile; the
configured profile without a role -> add the configured role back; another profile without a role
-> left alone (``empty_profile``: emptied on purpose, e.g. a quarantine); a role lacking the SSM
core actions -> attach the configured managed policy (and the node log policy, when configured and
not attached); a role reaching SSM without the configured node log policy -> attach only that
policy; otherwise nothing. A role whose permissions boundary provably denies an SSM core action is
reported ``blocked_by_boundary`` (nothing attached: it could not take effect); one whose boundary
can be proven neither way is handled as usual and listed in the summary's ``boundary_unproven``; a
role outside the configured path prefix / tag is reported ``not_allowed_to_modify`` (see
:mod:`.guard`). With a node log policy configured, the SSM role an association or a role addition
brings is checked the same way (member_region attaches the policy to it itself, so this is normally
one cached read). Existing profiles are never disassociated or replaced and nothing is ever
detached or removed.

Concurrency and retries converge instead of failing:

* ``IncorrectState`` from AssociateIamInstanceProfile (an association exists or is in progress,
  e.g. a concurrent sweep or a duplicate event won the race): the association is read back and
  its profile checked like any other; when it is the configured profile the instance is
  ``already_associated``.
* ``LimitExceeded`` from AddRoleToInstanceProfile (another run added a role first): the profile
  is read again and its role checked.
* AttachRolePolicy is idempotent in IAM; each role and profile is changed at most once per
  invocation however many instances share it. ``LimitExceeded`` (the role already has as many
  managed policies as its quota allows) and ``NoSuchEntity`` (the role or the policy is gone)
  are recorded with what to do.
* ``InvalidParameterValue`` "Invalid IAM Instance Profile" (IAM eventual consistency right after
  the profile was created) is retried with exponential backoff (:data:`PROPAGATION_DELAYS`);
  once the retries are exhausted the remaining instances fail fast with the same error.
* Throttling and transient errors are retried by botocore's ``standard`` retry mode (see
  :func:`.handler.build_clients`).
* AccessDenied / UnauthorizedOperation and other errors are recorded for the instance and the
  run goes on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

from botocore.exceptions import ClientError

from .config import Config
from .discovery import (
    ACCESS_DENIED_CODES,
    Instance,
    ListingStopped,
    Profile,
    ProfileDirectory,
    RoleInspector,
    RoleRef,
    RoleStatus,
    association_of,
    describe_instances,
    error_code,
    error_text,
    find_associations,
    profile_name_from_arn,
)
from .events import Trigger
from .guard import RoleFacts, RoleGuard
from .summary import FAILED_OUTCOMES, Outcome, Result, Summary

if TYPE_CHECKING:
    from mypy_boto3_ec2.client import EC2Client
    from mypy_boto3_iam.client import IAMClient

LOG = logging.getLogger(__name__)
PROPAGATION_DELAYS: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)
"""Seconds slept before each retry of an association IAM has not propagated yet (~15 s)."""

T = TypeVar("T")


def is_propagation_error(exc: ClientError) -> bool:
    """True for EC2's "Invalid IAM Instance Profile" InvalidParameterValue (IAM not propagated)."""
    message = str(exc.response.get("Error", {}).get("Message", ""))
    return error_code(exc) == "InvalidParameterValue" and (
        "invalid iam instance profile" in message.lower()
    )


class RoleChecker:
    """Runs one role-check invocation with the given clients and configuration."""

    def __init__(
        self,
        ec2: EC2Client,
        iam: IAMClient,
        config: Config,
        *,
        sleep: Callable[[float], None] = time.sleep,
        propagation_delays: Sequence[float] = PROPAGATION_DELAYS,
        profile_directory: ProfileDirectory | None = None,
    ) -> None:
        """Prepare a run; no AWS call is made here.

        Args:
            ec2: EC2 client of the function's Region.
            iam: IAM client.
            config: validated configuration.
            sleep: how to wait between propagation retries (seconds); tests pass a recorder.
            propagation_delays: the waits before each retry of an unpropagated profile.
            profile_directory: instance profile cache (default: a new one on ``iam``).
        """
        self._ec2 = ec2
        self._iam = iam
        self._config = config
        self._sleep = sleep
        self._delays = tuple(propagation_delays)
        self._profiles = profile_directory or ProfileDirectory(iam)
        self._roles = RoleInspector(iam, config.managed_policy_arn, config.node_log_policy_arn)
        self._guard = RoleGuard(iam, config)
        self._profile_results: dict[str, Result] = {}
        self._role_results: dict[str, Result] = {}
        self._profile_broken: str | None = None
        self._summary = Summary(trigger=None, dry_run=config.dry_run)
        self.stopped_after: str | None = None
        """Set when :meth:`run` stopped early: the last instance id looked at (or the cursor)."""
        self.remaining = 0
        """Instances :meth:`run` left for a continuation when it stopped early."""
        self.listing_stopped = False
        """True when :meth:`run` stopped before the instances were all listed."""

    def run(self, trigger: Trigger, stop: Callable[[], bool] | None = None) -> Summary:
        """Check every instance the trigger names (or the whole Region for a sweep).

        AWS APIs: ec2:DescribeInstances, ec2:DescribeIamInstanceProfileAssociations,
        iam:ListInstanceProfiles / iam:GetInstanceProfile, iam:ListAttachedRolePolicies,
        iam:ListRolePolicies, iam:GetRolePolicy, iam:GetPolicy, iam:GetPolicyVersion, iam:GetRole
        (once per role: path, tags, permissions boundary, whose document is read with
        iam:GetPolicy / iam:GetPolicyVersion once per boundary); and only
        when a change is due (never in dry-run mode): ec2:AssociateIamInstanceProfile,
        iam:AddRoleToInstanceProfile, iam:AttachRolePolicy (the managed policy and, when
        configured, the node log policy).

        Args:
            trigger: what to check (see :func:`.events.parse_event`); for a sweep continuation
                only instances whose id sorts after ``trigger.start_after`` are checked.
            stop: asked after each listing page and before each instance (in instance-id
                order); when it returns True the run stops there: :attr:`stopped_after` is the
                last instance id looked at (the cursor of the continuation) and
                :attr:`remaining` the instances left (those listed so far, with
                :attr:`listing_stopped` True, when the listing itself did not finish).

        Returns:
            The :class:`~.summary.Summary`: one result per instance looked at.

        Raises:
            botocore.exceptions.ClientError: listing the instances or their associations failed
                (nothing was changed then); per-instance errors are recorded, not raised.
        """
        summary = self._summary
        summary.trigger = trigger.kind
        try:
            return self._run(trigger, stop)
        except ListingStopped as exc:
            # The deadline came before the listing was complete: nothing was checked or changed;
            # the cursor stays where it was (the handler reports no progress, never a timeout).
            self.stopped_after = trigger.start_after
            self.remaining = exc.listed
            self.listing_stopped = True
            LOG.error("sweep stopped while listing instances: %s", exc)
            return summary

    def _run(self, trigger: Trigger, stop: Callable[[], bool] | None) -> Summary:
        summary = self._summary
        instances = describe_instances(self._ec2, trigger.instance_ids, stop)
        if trigger.start_after is not None:
            # Sorted by id: a continuation resumes after the last instance already looked at.
            instances = [i for i in instances if i.instance_id > trigger.start_after]
        seen = {i.instance_id for i in instances}
        for instance_id in trigger.instance_ids or ():
            if instance_id not in seen:
                summary.record(
                    instance_id,
                    Result(Outcome.NOT_FOUND, "not pending, running, stopping or stopped"),
                )
        opt_out = self._config.opt_out_tag_key
        active: list[Instance] = []
        for instance in instances:
            if opt_out is not None and opt_out in instance.tags:
                summary.record(instance.instance_id, Result(Outcome.OPTED_OUT, f"tag {opt_out}"))
            else:
                active.append(instance)
        without = [i.instance_id for i in active if i.profile_arn is None]
        associations = find_associations(self._ec2, without, len(active), stop)
        active = [
            replace(i, profile_arn=associations[i.instance_id])
            if i.instance_id in associations
            else i
            for i in active
        ]
        self._profiles.prefetch(
            {profile_name_from_arn(i.profile_arn) for i in active if i.profile_arn}
        )
        for index, instance in enumerate(active):
            if stop is not None and stop():
                self._stop_before(active, index, trigger.start_after)
                break
            result = self._check(instance)
            summary.record(instance.instance_id, result)
            if result.outcome in FAILED_OUTCOMES:
                LOG.warning(
                    "instance %s: %s (%s)", instance.instance_id, result.outcome, result.detail
                )
        return summary

    def _stop_before(self, active: Sequence[Instance], index: int, start_after: str | None) -> None:
        """Stop the sweep before ``active[index]`` (the deadline is near).

        The cursor is the last instance looked at (``start_after`` when none was); opted-out
        instances after it are dropped from this summary: the continuation reports them.
        """
        cursor = active[index - 1].instance_id if index else start_after
        self.stopped_after = cursor
        self.remaining = len(active) - index
        if cursor is not None:
            for instance_id in [i for i in self._summary.results if i > cursor]:
                del self._summary.results[instance_id]

    # --- per instance -----------------------------------------------------------------------

    def _check(self, instance: Instance) -> Result:
        if instance.profile_arn is None:
            return self._associate(instance)
        return self._profile_result(profile_name_from_arn(instance.profile_arn))

    def _failure(self, exc: ClientError, what: str) -> Result:
        outcome = (
            Outcome.ACCESS_DENIED if error_code(exc) in ACCESS_DENIED_CODES else Outcome.FAILED
        )
        return Result(outcome, f"{what}: {error_text(exc)}")

    def _change(self, operation: str) -> None:
        self._summary.changes[operation] += 1

    def _with_propagation_retry(self, call: Callable[[], T]) -> T:
        for delay in self._delays:
            try:
                return call()
            except ClientError as exc:
                if not is_propagation_error(exc):
                    raise
                LOG.info("instance profile not propagated yet; retrying in %.1f s", delay)
                self._sleep(delay)
        return call()

    def _associate(self, instance: Instance) -> Result:
        name = self._config.instance_profile_name
        if self._profile_broken is not None:
            return Result(Outcome.FAILED, self._profile_broken)
        if self._config.dry_run:
            self._change("AssociateIamInstanceProfile")
            return self._ssm_role_checked(
                Result(Outcome.PROFILE_ASSOCIATED, f"dry run: would associate {name}")
            )
        try:
            self._with_propagation_retry(
                lambda: self._ec2.associate_iam_instance_profile(
                    InstanceId=instance.instance_id, IamInstanceProfile={"Name": name}
                )
            )
        except ClientError as exc:
            return self._association_refused(instance, exc)
        self._change("AssociateIamInstanceProfile")
        return self._ssm_role_checked(Result(Outcome.PROFILE_ASSOCIATED, f"associated {name}"))

    def _association_refused(self, instance: Instance, exc: ClientError) -> Result:
        name = self._config.instance_profile_name
        code = error_code(exc)
        if code == "IncorrectState":
            return self._after_concurrent_association(instance)
        if code == "IncorrectInstanceState":
            return Result(Outcome.DEFERRED, error_text(exc))
        if is_propagation_error(exc):
            self._profile_broken = f"associating {name} (after retries): {error_text(exc)}"
            return Result(Outcome.FAILED, self._profile_broken)
        return self._failure(exc, f"associating {name}")

    def _after_concurrent_association(self, instance: Instance) -> Result:
        try:
            arn = association_of(self._ec2, instance.instance_id)
        except ClientError as exc:
            return self._failure(exc, "reading the existing association")
        if arn is None:
            return Result(Outcome.DEFERRED, "an association is changing; the next run converges")
        name = profile_name_from_arn(arn)
        result = self._profile_result(name)
        if name == self._config.instance_profile_name and result.outcome == Outcome.COMPLIANT:
            return Result(Outcome.ALREADY_ASSOCIATED, f"{name} was associated concurrently")
        return result

    # --- per profile and role (cached: each is read and changed at most once) ----------------

    def _profile_result(self, name: str) -> Result:
        if name not in self._profile_results:
            try:
                profile = self._profiles.get(name)
            except ClientError as exc:
                self._profile_results[name] = self._failure(exc, f"reading instance profile {name}")
            else:
                if profile.role is None and name != self._config.instance_profile_name:
                    # Emptied by someone (a quarantine): never refilled (its IAM policy agrees).
                    self._profile_results[name] = Result(
                        Outcome.EMPTY_PROFILE,
                        f"instance profile {name} has no role and is not "
                        f"{self._config.instance_profile_name}; left alone",
                    )
                elif profile.role is None:
                    self._profile_results[name] = self._add_role(profile)
                else:
                    self._profile_results[name] = self._role_result(profile.role)
        return self._profile_results[name]

    def _add_role(self, profile: Profile) -> Result:
        role = self._config.role_name
        if self._config.dry_run:
            self._change("AddRoleToInstanceProfile")
            return self._ssm_role_checked(
                Result(Outcome.ROLE_ADDED, f"dry run: would add role {role} to {profile.name}"),
                profile,
            )
        try:
            self._iam.add_role_to_instance_profile(InstanceProfileName=profile.name, RoleName=role)
        except ClientError as exc:
            if error_code(exc) != "LimitExceeded":
                return self._failure(exc, f"adding role {role} to {profile.name}")
            # Another invocation added a role first: check the role it added.
            try:
                fresh = self._profiles.refresh(profile.name)
            except ClientError as again:
                return self._failure(again, f"reading instance profile {profile.name}")
            if fresh.role is None:
                return self._failure(exc, f"adding role {role} to {profile.name}")
            return self._role_result(fresh.role)
        self._change("AddRoleToInstanceProfile")
        self._summary.profiles_changed.add(profile.name)
        return self._ssm_role_checked(
            Result(Outcome.ROLE_ADDED, f"added role {role} to {profile.name}"), profile
        )

    def _ssm_role_checked(self, done: Result, into: Profile | None = None) -> Result:
        """``done`` (an association or a role addition), once the SSM role it brought is checked.

        Only with a node log policy configured (without one the result is ``done`` unchanged, as
        before the log policy existed). The role is the one of the configured instance profile
        after an association, the configured role after it was added to ``into``.

        Returns:
            ``done`` when the role is compliant; ``done`` with the role's attachment appended to
            its detail when a policy was attached; the role's failure (with ``done``'s detail in
            front) when the role could not be read or fixed, so the instance is reported.
        """
        if self._config.node_log_policy_arn is None:
            return done
        if into is None:
            checked = self._profile_result(self._config.instance_profile_name)
        else:
            # The profile's ARN gives the partition and account; the role's path is not needed
            # (RoleRef.arn is only read for the partition).
            _, partition, _, _, account, _ = into.arn.split(":", 5)
            name = self._config.role_name
            checked = self._role_result(
                RoleRef(name, f"arn:{partition}:iam::{account}:role/{name}")
            )
        if checked.outcome in FAILED_OUTCOMES:
            return Result(checked.outcome, f"{done.detail}; then {checked.detail}")
        if checked.outcome in (Outcome.COMPLIANT, Outcome.ALREADY_ASSOCIATED):
            return done
        return Result(done.outcome, f"{done.detail}; {checked.detail}")

    def _role_result(self, role: RoleRef) -> Result:
        if role.name not in self._role_results:
            self._role_results[role.name] = self._evaluate_role(role)
        return self._role_results[role.name]

    def _evaluate_role(self, role: RoleRef) -> Result:
        try:
            verdict = self._roles.verdict(role)
        except ClientError as exc:
            return self._failure(exc, f"reading the policies of role {role.name}")
        if verdict.status == RoleStatus.BLOCKED:
            return Result(Outcome.BLOCKED_BY_DENY, f"role {role.name}: {verdict.detail}")
        facts = self._guarded(role)
        if isinstance(facts, Result):
            return facts
        reaches_ssm = verdict.status in (RoleStatus.MANAGED_POLICY, RoleStatus.GRANTED_BY_POLICIES)
        missing: list[str] = []
        if not reaches_ssm:
            missing.append(self._config.managed_policy_arn(role.partition))
        log_policy = self._config.node_log_policy_arn
        if log_policy is not None and verdict.log_policy_missing:
            missing.append(log_policy)
        if not missing:
            return Result(Outcome.COMPLIANT, f"role {role.name}: {verdict.status}")
        refusal = self._guard.not_modifiable(facts)
        if refusal is not None:
            return Result(
                Outcome.NOT_ALLOWED_TO_MODIFY,
                f"{refusal}: not attaching {' and '.join(missing)}",
            )
        outcome = Outcome.LOG_POLICY_ATTACHED if reaches_ssm else Outcome.POLICY_ATTACHED
        return self._attach(role, missing, outcome)

    def _guarded(self, role: RoleRef) -> RoleFacts | Result:
        """The role's facts, or the result that stops its check (boundary, read failure).

        AWS APIs: iam:GetRole, and for a boundary iam:GetPolicy + iam:GetPolicyVersion.
        """
        try:
            facts = self._guard.facts(role.name)
            bounded = self._guard.boundary(facts.boundary_arn) if facts.boundary_arn else None
        except ClientError as exc:
            return self._failure(exc, f"reading role {role.name} and its permissions boundary")
        if bounded is not None and bounded.blocks:
            # Effective permissions = identity policies AND boundary: a policy attached now
            # could not take effect, so none is and the instance is not called fixed.
            return Result(
                Outcome.BLOCKED_BY_BOUNDARY,
                f"role {role.name}: its permissions boundary {facts.boundary_arn} "
                f"{bounded.describe()}; nothing attached",
            )
        if bounded is not None and not bounded.allows:
            # Neither provably allowed nor denied (a conditional Deny/Allow): the fix goes on
            # (the policy is harmless) and the operator is told the boundary may still stop it.
            self._summary.boundary_unproven[role.name] = (
                f"permissions boundary {facts.boundary_arn} {bounded.describe()}"
            )
        return facts

    def _attach(self, role: RoleRef, policy_arns: Sequence[str], outcome: Outcome) -> Result:
        """Attach ``policy_arns`` to ``role`` in order (AWS API: ``iam:AttachRolePolicy``).

        Returns:
            ``outcome`` naming what was (in dry-run mode: would be) attached; on an error the
            failure, naming what was attached before it (each success is counted in the summary).
        """
        attached: list[str] = []
        for arn in policy_arns:
            if not self._config.dry_run:
                try:
                    self._iam.attach_role_policy(RoleName=role.name, PolicyArn=arn)
                except ClientError as exc:
                    failure = self._attach_refused(exc, role, arn)
                    if not attached:
                        return failure
                    done = " and ".join(attached)
                    return Result(failure.outcome, f"attached {done}; then {failure.detail}")
                self._summary.roles_changed.add(role.name)
            self._change("AttachRolePolicy")
            self._summary.policies_attached[arn] += 1
            attached.append(arn)
        verb = "dry run: would attach" if self._config.dry_run else "attached"
        return Result(outcome, f"{verb} {' and '.join(attached)} to role {role.name}")

    def _attach_refused(self, exc: ClientError, role: RoleRef, arn: str) -> Result:
        what = f"attaching {arn} to role {role.name}"
        code = error_code(exc)
        if code == "LimitExceeded":
            return Result(
                Outcome.FAILED,
                f"{what}: the role has as many managed policies as its quota allows "
                f"(PoliciesPerRole); detach one or raise the quota ({error_text(exc)})",
            )
        if code == "NoSuchEntity":
            return Result(
                Outcome.FAILED,
                f"{what}: the role or the policy does not exist (deleted meanwhile, or a "
                f"wrong NODE_LOG_POLICY_ARN) ({error_text(exc)})",
            )
        return self._failure(exc, what)
