"""Reads: instances, profile associations, instance profiles and role permissions.

Every read is paginated and filtered server-side, and every instance profile, role and policy is
read at most once per invocation (results and errors are cached), so the cost of a run grows with
pages and distinct profiles/roles, not with instances. Call budget of one invocation:

* ``ec2:DescribeInstances``: one call per page of 1000 instances (filter ``instance-state-name``
  = pending/running/stopping/stopped; for given ids also ``instance-id``, 200 ids a call);
* ``ec2:DescribeIamInstanceProfileAssociations``: only for instances EC2 shows without a profile
  (an association may still be ``associating``): 200 ids a call, or a listing of every
  ``associating``/``associated`` association (1000 a page) when that is fewer calls;
* instance profiles: with :data:`BULK_PROFILE_THRESHOLD` or more distinct profiles, one
  ``iam:ListInstanceProfiles`` call per page of 1000 profiles of the account (stopping once all
  wanted profiles are seen), else one ``iam:GetInstanceProfile`` per profile;
* per distinct role: ``iam:ListAttachedRolePolicies`` (1 call; it also tells whether the node
  log policy, when configured, is attached; the role reaches SSM when the configured managed
  policy is attached), then ``iam:ListRolePolicies`` (1 call) and
  ``iam:GetRolePolicy`` per inline policy, then ``iam:GetPolicy`` + ``iam:GetPolicyVersion`` per
  distinct other attached policy (cached across roles), stopping as soon as the grants suffice.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import ClientError

from .policy import Grants, add_document

if TYPE_CHECKING:
    from mypy_boto3_ec2.client import EC2Client
    from mypy_boto3_ec2.type_defs import FilterTypeDef
    from mypy_boto3_iam.client import IAMClient

INSTANCE_STATES = ("pending", "running", "stopping", "stopped")
ASSOCIATION_STATES = ("associating", "associated")
FILTER_CHUNK = 200
PAGE_SIZE = 1000
BULK_PROFILE_THRESHOLD = 3
ACCESS_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess"}
)

T = TypeVar("T")


def error_code(exc: ClientError) -> str:
    """The AWS error code of ``exc`` (empty string when absent)."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def error_text(exc: ClientError) -> str:
    """``"<Code>: <Message>"`` of ``exc``, for summaries."""
    error = exc.response.get("Error", {})
    return f"{error.get('Code', '')}: {error.get('Message', '')}"


@dataclass(frozen=True)
class Instance:
    """One EC2 instance as DescribeInstances (and the associations) show it.

    Attributes:
        instance_id: ``i-...``.
        state: instance state name (pending, running, stopping, stopped).
        profile_arn: ARN of the associated (or associating) instance profile, ``None`` if none.
        tags: the instance's tags, key -> value.
    """

    instance_id: str
    state: str
    profile_arn: str | None
    tags: dict[str, str]


@dataclass(frozen=True)
class RoleRef:
    """A role as an instance profile lists it."""

    name: str
    arn: str

    @property
    def partition(self) -> str:
        """The ARN partition of the role (``aws``, ``aws-cn``, ``aws-us-gov``...)."""
        return self.arn.split(":")[1]


@dataclass(frozen=True)
class Profile:
    """An instance profile and its role (an instance profile holds at most one role)."""

    name: str
    arn: str
    role: RoleRef | None


def profile_name_from_arn(arn: str) -> str:
    """``arn:aws:iam::123456789012:instance-profile/path/name`` -> ``name``."""
    return arn.rsplit("/", 1)[-1]


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class ListingStopped(Exception):
    """The deadline came while the instances were still being listed (between two pages)."""

    def __init__(self, listed: int) -> None:
        """``listed``: instances listed before the stop."""
        super().__init__(f"deadline reached after listing {listed} instances")
        self.listed = listed


def describe_instances(
    ec2: EC2Client,
    instance_ids: Sequence[str] | None,
    stop: Callable[[], bool] | None = None,
) -> list[Instance]:
    """List the instances to check (AWS API: ``ec2:DescribeInstances``, paginated).

    Args:
        ec2: EC2 client of the function's Region.
        instance_ids: the ids to look at, or ``None`` for every instance of the Region.
        stop: asked after each page; True ends the listing with :class:`ListingStopped` (the
            sweep's deadline: a listing of a large Region takes one call per 1,000 instances).

    Returns:
        The instances in state pending, running, stopping or stopped, sorted by id. Ids not
        returned do not exist in those states (e.g. terminated).

    Raises:
        botocore.exceptions.ClientError: the call failed after botocore's retries (e.g.
            UnauthorizedOperation); nothing can be checked then.
        ListingStopped: ``stop`` returned True before the listing was complete.
    """
    state_filter: FilterTypeDef = {"Name": "instance-state-name", "Values": list(INSTANCE_STATES)}
    filter_sets: list[list[FilterTypeDef]]
    if instance_ids is None:
        filter_sets = [[state_filter]]
    else:
        filter_sets = [
            [state_filter, {"Name": "instance-id", "Values": list(chunk)}]
            for chunk in _chunks(list(instance_ids), FILTER_CHUNK)
        ]
    paginator = ec2.get_paginator("describe_instances")
    found: dict[str, Instance] = {}
    for filters in filter_sets:
        for page in paginator.paginate(Filters=filters, PaginationConfig={"PageSize": PAGE_SIZE}):
            for reservation in page.get("Reservations", []):
                for item in reservation.get("Instances", []):
                    instance_id = item["InstanceId"]
                    found[instance_id] = Instance(
                        instance_id=instance_id,
                        state=item.get("State", {}).get("Name", ""),
                        profile_arn=item.get("IamInstanceProfile", {}).get("Arn"),
                        tags={t["Key"]: t.get("Value", "") for t in item.get("Tags", [])},
                    )
            if stop is not None and stop():
                raise ListingStopped(len(found))
    return [found[i] for i in sorted(found)]


def find_associations(
    ec2: EC2Client,
    instance_ids: Sequence[str],
    fleet_size: int,
    stop: Callable[[], bool] | None = None,
) -> dict[str, str]:
    """Profiles being associated or associated with instances EC2 listed without one.

    AWS API: ``ec2:DescribeIamInstanceProfileAssociations`` (paginated), filtered on ``state``
    (associating, associated) and, when that takes fewer calls, on ``instance-id``.

    Args:
        ec2: EC2 client.
        instance_ids: instances that DescribeInstances showed without a profile.
        fleet_size: number of instances in the run, to estimate the cost of a full listing.
        stop: asked after each page; True ends the listing with :class:`ListingStopped`.

    Returns:
        instance id -> instance profile ARN, for those of ``instance_ids`` that have one.

    Raises:
        botocore.exceptions.ClientError: the call failed after botocore's retries.
        ListingStopped: ``stop`` returned True before the listing was complete.
    """
    if not instance_ids:
        return {}
    wanted = set(instance_ids)
    state_filter: FilterTypeDef = {"Name": "state", "Values": list(ASSOCIATION_STATES)}
    by_id = math.ceil(len(wanted) / FILTER_CHUNK)
    listing = max(1, math.ceil(fleet_size / PAGE_SIZE))
    filter_sets: list[list[FilterTypeDef]]
    if by_id <= listing:
        filter_sets = [
            [state_filter, {"Name": "instance-id", "Values": list(chunk)}]
            for chunk in _chunks(sorted(wanted), FILTER_CHUNK)
        ]
    else:
        filter_sets = [[state_filter]]
    paginator = ec2.get_paginator("describe_iam_instance_profile_associations")
    found: dict[str, str] = {}
    for filters in filter_sets:
        for page in paginator.paginate(Filters=filters, PaginationConfig={"PageSize": PAGE_SIZE}):
            for assoc in page.get("IamInstanceProfileAssociations", []):
                instance_id = assoc.get("InstanceId", "")
                arn = assoc.get("IamInstanceProfile", {}).get("Arn")
                if instance_id in wanted and arn:
                    found[instance_id] = arn
            if stop is not None and stop():
                raise ListingStopped(fleet_size)
    return found


def association_of(ec2: EC2Client, instance_id: str) -> str | None:
    """The profile ARN currently associating/associated with one instance, or ``None``.

    AWS API: ``ec2:DescribeIamInstanceProfileAssociations`` (filters instance-id and state).

    Raises:
        botocore.exceptions.ClientError: the call failed after botocore's retries.
    """
    return find_associations(ec2, [instance_id], 1).get(instance_id)


def _profile_from(item: Any) -> Profile:
    roles = item.get("Roles") or []
    role = RoleRef(roles[0]["RoleName"], roles[0]["Arn"]) if roles else None
    return Profile(item["InstanceProfileName"], item["Arn"], role)


class _Memo:
    """Per-invocation cache of values and errors by key."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}
        self._errors: dict[str, ClientError] = {}

    def get(self, key: str, load: Callable[[], T]) -> T:
        if key in self._errors:
            raise self._errors[key]
        if key not in self._values:
            try:
                self._values[key] = load()
            except ClientError as exc:
                self._errors[key] = exc
                raise
        value: T = self._values[key]
        return value

    def put(self, key: str, value: Any) -> None:
        self._values[key] = value
        self._errors.pop(key, None)

    def __contains__(self, key: str) -> bool:
        return key in self._values


class ProfileDirectory:
    """Instance profiles by name, each read once per invocation."""

    def __init__(self, iam: IAMClient, bulk_threshold: int = BULK_PROFILE_THRESHOLD) -> None:
        """Wrap ``iam``; ``bulk_threshold`` distinct profiles switch to ListInstanceProfiles."""
        self._iam = iam
        self._bulk_threshold = bulk_threshold
        self._memo = _Memo()

    def prefetch(self, names: Iterable[str]) -> None:
        """Read many profiles with ``iam:ListInstanceProfiles`` (paginated) when it is cheaper.

        Only when there are at least ``bulk_threshold`` wanted names; stops paging once every
        wanted profile was seen. A denied listing is ignored (``get`` then reads each profile).

        Raises:
            botocore.exceptions.ClientError: the listing failed with an error other than an
                access denial.
        """
        wanted = {n for n in names if n not in self._memo}
        if len(wanted) < self._bulk_threshold:
            return
        paginator = self._iam.get_paginator("list_instance_profiles")
        try:
            for page in paginator.paginate(PaginationConfig={"PageSize": PAGE_SIZE}):
                for item in page.get("InstanceProfiles", []):
                    if item["InstanceProfileName"] in wanted:
                        self._memo.put(item["InstanceProfileName"], _profile_from(item))
                        wanted.discard(item["InstanceProfileName"])
                if not wanted:
                    break
        except ClientError as exc:
            if error_code(exc) not in ACCESS_DENIED_CODES:
                raise

    def get(self, name: str) -> Profile:
        """The profile ``name`` (AWS API: ``iam:GetInstanceProfile`` unless already read).

        Raises:
            botocore.exceptions.ClientError: e.g. NoSuchEntity or AccessDenied (cached: the same
                error is raised again for the next instance without another call).
        """
        return self._memo.get(name, lambda: self._read(name))

    def refresh(self, name: str) -> Profile:
        """Read ``name`` again, bypassing the cache (after a concurrent change).

        Raises:
            botocore.exceptions.ClientError: as :meth:`get`.
        """
        profile = self._read(name)
        self._memo.put(name, profile)
        return profile

    def _read(self, name: str) -> Profile:
        response = self._iam.get_instance_profile(InstanceProfileName=name)
        return _profile_from(response["InstanceProfile"])


class RoleStatus(StrEnum):
    """Whether a role lets an instance reach SSM."""

    MANAGED_POLICY = "managed_policy"
    GRANTED_BY_POLICIES = "granted_by_policies"
    LACKING = "lacking"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class RoleVerdict:
    """The status of one role, with the missing or denied actions for the log.

    Attributes:
        status: whether the role lets an instance reach SSM.
        detail: the missing or denied actions (``None`` when it reaches SSM).
        log_policy_missing: a node log policy is configured and not attached to the role (only
            that exact ARN counts; other grants of ``s3:PutObject`` are not evaluated).
    """

    status: RoleStatus
    detail: str | None = None
    log_policy_missing: bool = False


class RoleInspector:
    """Decides, once per role and invocation, whether the role grants the SSM core actions."""

    def __init__(
        self,
        iam: IAMClient,
        managed_policy_arn: Callable[[str], str],
        log_policy_arn: str | None = None,
    ) -> None:
        """Wrap ``iam``.

        Args:
            iam: IAM client.
            managed_policy_arn: ``managed_policy_arn(partition)`` is the configured policy's ARN.
            log_policy_arn: the node log policy every role must carry too, or ``None``.
        """
        self._iam = iam
        self._managed_policy_arn = managed_policy_arn
        self._log_policy_arn = log_policy_arn
        self._roles = _Memo()
        self._policies = _Memo()

    def verdict(self, role: RoleRef) -> RoleVerdict:
        """Evaluate ``role`` (cached per role name).

        AWS APIs, stopping as soon as the answer is known: ``iam:ListAttachedRolePolicies``,
        ``iam:ListRolePolicies``, ``iam:GetRolePolicy`` per inline policy, ``iam:GetPolicy`` and
        ``iam:GetPolicyVersion`` per other attached policy (cached across roles; the node log
        policy is not read, it grants no SSM action).

        Returns:
            The :class:`RoleVerdict`, with ``log_policy_missing`` from the attached policies.

        Raises:
            botocore.exceptions.ClientError: a read failed (e.g. AccessDenied, NoSuchEntity).
        """
        return self._roles.get(role.name, lambda: self._evaluate(role))

    def _evaluate(self, role: RoleRef) -> RoleVerdict:
        managed = self._managed_policy_arn(role.partition)
        attached: list[str] = []
        for page in self._iam.get_paginator("list_attached_role_policies").paginate(
            RoleName=role.name
        ):
            attached.extend(p["PolicyArn"] for p in page.get("AttachedPolicies", []))
        log_missing = self._log_policy_arn is not None and self._log_policy_arn not in attached
        if managed in attached:
            return RoleVerdict(RoleStatus.MANAGED_POLICY, log_policy_missing=log_missing)
        grants = Grants()
        inline = self._iam.get_paginator("list_role_policies")
        for names_page in inline.paginate(RoleName=role.name):
            for policy_name in names_page.get("PolicyNames", []):
                doc = self._iam.get_role_policy(RoleName=role.name, PolicyName=policy_name)
                add_document(grants, doc["PolicyDocument"])
                if grants.complete or grants.blocked:
                    return self._conclude(grants, log_missing)
        for arn in attached:
            if arn == self._log_policy_arn:
                continue
            add_document(grants, self._policies.get(arn, partial(self._document, arn)))
            if grants.complete or grants.blocked:
                return self._conclude(grants, log_missing)
        return self._conclude(grants, log_missing)

    @staticmethod
    def _conclude(grants: Grants, log_missing: bool) -> RoleVerdict:
        if grants.blocked:
            return RoleVerdict(
                RoleStatus.BLOCKED,
                "explicit Deny on " + ", ".join(sorted(grants.denied)),
                log_missing,
            )
        if grants.complete:
            return RoleVerdict(RoleStatus.GRANTED_BY_POLICIES, log_policy_missing=log_missing)
        return RoleVerdict(
            RoleStatus.LACKING, "missing " + ", ".join(grants.missing()), log_missing
        )

    def _document(self, policy_arn: str) -> Any:
        policy = self._iam.get_policy(PolicyArn=policy_arn)["Policy"]
        version = self._iam.get_policy_version(
            PolicyArn=policy_arn, VersionId=policy["DefaultVersionId"]
        )
        return version["PolicyVersion"].get("Document", {})
