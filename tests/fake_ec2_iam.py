"""A fast, boto3-shaped fake of the EC2 and IAM calls the role check makes, on a simulated clock,
with the account's request token buckets and the Lambda deadline enforced.

Used by ``benchmarks/bench_role_check_sweep_at_scale.py`` (50,000 instances; moto would take
hours at that size) and the sweep unit tests. What it mirrors, and where it is stricter:

* Throttling -- "Request throttling for the Amazon EC2 API"
  (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html): a token bucket per
  API action and account/Region; each request takes a token; ``refill`` tokens are added once a
  second up to the capacity; a request finding the bucket empty fails with
  ``RequestLimitExceeded``. Buckets: DescribeInstances and DescribeIamInstanceProfileAssociations
  (paginated and filtered: non-mutating, 100 / 20 a second), AssociateIamInstanceProfile
  (uncategorized, 100 / 5 a second). IAM documents no request rate per action ("IAM and AWS STS
  quotas", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html): the fake
  uses assumed buckets (writes 10 / 2 a second, reads 20 / 10 a second) and answers ``Throttling``
  ("Rate exceeded") when empty. NOT faithful: the IAM numbers are assumptions. Stricter than AWS:
  a throttled request is refused at once (the fake client does not retry as botocore's standard
  mode would), so a run that needs retries fails instead of converging.
* Paging: DescribeInstances and DescribeIamInstanceProfileAssociations return at most MaxResults
  (5-1000) items a page; ListInstanceProfiles, ListAttachedRolePolicies and ListRolePolicies at
  most MaxItems (1-1000; default 100).
* AssociateIamInstanceProfile on an instance that has an association: ``IncorrectState``
  ("There is an existing association for instance ..."); associations are ``associated`` at once
  (AWS passes through ``associating``: the checker reads both states alike).
* Latency: every request advances the clock by :data:`LATENCY` seconds (an assumption: AWS
  publishes none).
* Lambda: :class:`LambdaClock` raises :class:`LambdaTimeout` when the simulated time passes the
  invocation's deadline, as Lambda ends an invocation at its timeout
  (https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html).
"""

from __future__ import annotations

import fnmatch
import math
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
REGION = "us-west-2"
EC2_BUCKETS: dict[str, tuple[float, float]] = {
    "DescribeInstances": (100.0, 20.0),
    "DescribeIamInstanceProfileAssociations": (100.0, 20.0),
    "AssociateIamInstanceProfile": (100.0, 5.0),
}
IAM_WRITE = (10.0, 2.0)
IAM_READ = (20.0, 10.0)
IAM_WRITES = {"AddRoleToInstanceProfile", "AttachRolePolicy"}
LATENCY: dict[str, float] = {"DescribeInstances": 1.0}
DEFAULT_LATENCY = 0.08
MUTATING = {"AssociateIamInstanceProfile", "AddRoleToInstanceProfile", "AttachRolePolicy"}


class LambdaTimeout(BaseException):
    """The invocation ran past its deadline (Lambda ends it: "Task timed out")."""


class LambdaClock:
    """Simulated seconds; ``deadline`` (absolute, or ``None``) is enforced on every advance."""

    def __init__(self) -> None:
        """Start at zero with no deadline."""
        self.now = 0.0
        self.deadline: float | None = None

    def time(self) -> float:
        """The simulated time, in seconds."""
        return self.now

    def sleep(self, seconds: float) -> None:
        """Advance the clock by ``seconds`` (a sleep of the function)."""
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        """Advance the clock; raise :class:`LambdaTimeout` past the deadline."""
        self.now += max(0.0, seconds)
        if self.deadline is not None and self.now > self.deadline:
            raise LambdaTimeout(f"timed out at {self.now:.1f} s (deadline {self.deadline:.1f})")

    def remaining_ms(self) -> int:
        """What ``context.get_remaining_time_in_millis()`` answers."""
        if self.deadline is None:
            return 900_000
        return max(0, int((self.deadline - self.now) * 1000))


class _Bucket:
    """AWS's bucket: full at the start, ``refill`` tokens added at each whole second."""

    def __init__(self, capacity: float, refill: float, phase: float) -> None:
        self.capacity = capacity
        self.refill = refill
        self.tokens = capacity
        self.phase = phase
        self.tick = 0

    def take(self, now: float) -> bool:
        ticks = math.floor(now - self.phase)
        if ticks > self.tick:
            self.tokens = min(self.capacity, self.tokens + (ticks - self.tick) * self.refill)
            self.tick = ticks
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class _Events:
    """The part of botocore's event emitter the role check uses (``register``)."""

    def __init__(self) -> None:
        self.handlers: list[tuple[str, Callable[..., Any]]] = []

    def register(self, pattern: str, handler: Callable[..., Any]) -> None:
        self.handlers.append((pattern, handler))

    def emit(self, event_name: str) -> None:
        for pattern, handler in self.handlers:
            if fnmatch.fnmatchcase(event_name, pattern):
                handler(event_name=event_name)


@dataclass
class _Meta:
    events: _Events = field(default_factory=_Events)


def _error(code: str, message: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


@dataclass
class FakeInstance:
    """One instance: id, state, associated profile ARN (or ``None``), tags."""

    instance_id: str
    state: str = "running"
    profile_arn: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeRole:
    """One role: name, attached managed policy ARNs, inline policies, path, tags."""

    name: str
    attached: list[str] = field(default_factory=list)
    inline: dict[str, Any] = field(default_factory=dict)
    path: str = "/"
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{ACCOUNT}:role{self.path}{self.name}"


@dataclass
class FakeAccount:
    """The account's state and the record of every request.

    Attributes:
        calls: requests by operation (throttled ones included).
        throttled: refused requests by operation.
        mutations: successful mutating requests by (operation, target).
    """

    clock: LambdaClock
    instances: dict[str, FakeInstance] = field(default_factory=dict)
    profiles: dict[str, str | None] = field(default_factory=dict)
    roles: dict[str, FakeRole] = field(default_factory=dict)
    policies: dict[str, Any] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    throttled: Counter[str] = field(default_factory=Counter)
    mutations: Counter[tuple[str, str]] = field(default_factory=Counter)
    buckets: dict[str, _Bucket] = field(default_factory=dict)

    def profile_arn(self, name: str) -> str:
        """ARN of instance profile ``name``."""
        return f"arn:aws:iam::{ACCOUNT}:instance-profile/{name}"

    def request(self, service: str, operation: str, events: _Events) -> None:
        """One request: hooks (counter, pacer), the bucket, then the latency."""
        events.emit(f"before-call.{service}.{operation}")
        self.calls[operation] += 1
        bucket = self.buckets.get(operation)
        if bucket is None:
            if service == "ec2":
                capacity, refill = EC2_BUCKETS.get(operation, (100.0, 20.0))
            else:
                capacity, refill = IAM_WRITE if operation in IAM_WRITES else IAM_READ
            bucket = self.buckets[operation] = _Bucket(capacity, refill, phase=0.37)
        if not bucket.take(self.clock.now):
            self.throttled[operation] += 1
            if service == "ec2":
                raise _error("RequestLimitExceeded", "Request limit exceeded.", operation)
            raise _error("Throttling", "Rate exceeded", operation)
        self.clock.advance(LATENCY.get(operation, DEFAULT_LATENCY))


def _page_size(config: dict[str, Any] | None, default: int, low: int, high: int) -> int:
    size = int((config or {}).get("PageSize", default))
    if not low <= size <= high:
        raise _error("InvalidParameterValue", f"page size {size} not in {low}-{high}", "List")
    return size


def _filters(filters: list[dict[str, Any]] | None) -> dict[str, set[str]]:
    return {f["Name"]: set(f["Values"]) for f in filters or []}


class _Paginator:
    def __init__(self, pages: Callable[..., Iterator[dict[str, Any]]]) -> None:
        self._pages = pages

    def paginate(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        return self._pages(**kwargs)


class FakeEC2:
    """``describe_instances`` / ``describe_iam_instance_profile_associations`` paginators and
    ``associate_iam_instance_profile``."""

    def __init__(self, account: FakeAccount) -> None:
        """Serve ``account``."""
        self.account = account
        self.meta = _Meta()

    def _request(self, operation: str) -> None:
        self.account.request("ec2", operation, self.meta.events)

    def get_paginator(self, name: str) -> _Paginator:
        """Paginators of the two describe calls."""
        pages: dict[str, Callable[..., Iterator[dict[str, Any]]]] = {
            "describe_instances": self._instance_pages,
            "describe_iam_instance_profile_associations": self._association_pages,
        }
        return _Paginator(pages[name])

    def _instance_pages(
        self,
        Filters: list[dict[str, Any]] | None = None,
        PaginationConfig: dict[str, Any] | None = None,
    ) -> Iterator[dict[str, Any]]:
        size = _page_size(PaginationConfig, 1000, 5, 1000)
        wanted = _filters(Filters)
        states = wanted.get("instance-state-name")
        ids = wanted.get("instance-id")
        items = [
            i
            for i in self.account.instances.values()
            if (states is None or i.state in states) and (ids is None or i.instance_id in ids)
        ]
        # EC2 returns instances in no documented order; the fake shuffles by a fixed key.
        items.sort(key=lambda i: i.instance_id[::-1])
        for start in range(0, max(1, len(items)), size):
            self._request("DescribeInstances")
            page = items[start : start + size]
            yield {
                "Reservations": [
                    {
                        "Instances": [
                            {
                                "InstanceId": i.instance_id,
                                "State": {"Name": i.state},
                                **(
                                    {"IamInstanceProfile": {"Arn": i.profile_arn}}
                                    if i.profile_arn
                                    else {}
                                ),
                                "Tags": [{"Key": k, "Value": v} for k, v in i.tags.items()],
                            }
                            for i in page
                        ]
                    }
                ]
                if page
                else []
            }

    def _association_pages(
        self,
        Filters: list[dict[str, Any]] | None = None,
        PaginationConfig: dict[str, Any] | None = None,
    ) -> Iterator[dict[str, Any]]:
        size = _page_size(PaginationConfig, 1000, 5, 1000)
        wanted = _filters(Filters)
        ids = wanted.get("instance-id")
        items = [
            i
            for i in self.account.instances.values()
            if i.profile_arn and (ids is None or i.instance_id in ids)
        ]
        for start in range(0, max(1, len(items)), size):
            self._request("DescribeIamInstanceProfileAssociations")
            yield {
                "IamInstanceProfileAssociations": [
                    {
                        "InstanceId": i.instance_id,
                        "IamInstanceProfile": {"Arn": i.profile_arn},
                        "State": "associated",
                    }
                    for i in items[start : start + size]
                ]
            }

    def associate_iam_instance_profile(
        self,
        InstanceId: str,
        IamInstanceProfile: dict[str, str],
    ) -> dict[str, Any]:
        """Associate a profile by name (``IncorrectState`` when one is associated)."""
        self._request("AssociateIamInstanceProfile")
        instance = self.account.instances[InstanceId]
        name = IamInstanceProfile["Name"]
        if name not in self.account.profiles:
            raise _error(
                "InvalidParameterValue",
                "Value (x) for parameter iamInstanceProfile.name is invalid. "
                "Invalid IAM Instance Profile name",
                "AssociateIamInstanceProfile",
            )
        if instance.profile_arn is not None:
            raise _error(
                "IncorrectState",
                f"There is an existing association for instance {InstanceId}",
                "AssociateIamInstanceProfile",
            )
        instance.profile_arn = self.account.profile_arn(name)
        self.account.mutations["AssociateIamInstanceProfile", InstanceId] += 1
        return {"IamInstanceProfileAssociation": {"InstanceId": InstanceId, "State": "associating"}}


class FakeIAM:
    """The IAM reads and the two writes (AddRoleToInstanceProfile, AttachRolePolicy)."""

    def __init__(self, account: FakeAccount) -> None:
        """Serve ``account``."""
        self.account = account
        self.meta = _Meta()

    def _request(self, operation: str) -> None:
        self.account.request("iam", operation, self.meta.events)

    def _role(self, name: str, operation: str) -> FakeRole:
        if name not in self.account.roles:
            raise _error("NoSuchEntity", f"The role with name {name} cannot be found.", operation)
        return self.account.roles[name]

    def _profile_item(self, name: str) -> dict[str, Any]:
        role_name = self.account.profiles[name]
        roles = []
        if role_name is not None:
            role = self.account.roles[role_name]
            roles = [{"RoleName": role.name, "Arn": role.arn, "Path": role.path}]
        return {
            "InstanceProfileName": name,
            "Arn": self.account.profile_arn(name),
            "Path": "/",
            "Roles": roles,
        }

    def get_paginator(self, name: str) -> _Paginator:
        """Paginators of the three IAM list calls."""
        pages: dict[str, Callable[..., Iterator[dict[str, Any]]]] = {
            "list_instance_profiles": self._profile_pages,
            "list_attached_role_policies": self._attached_pages,
            "list_role_policies": self._inline_pages,
        }
        return _Paginator(pages[name])

    def _pages(
        self, operation: str, key: str, items: list[Any], config: dict[str, Any] | None
    ) -> Iterator[dict[str, Any]]:
        size = _page_size(config, 100, 1, 1000)
        for start in range(0, max(1, len(items)), size):
            self._request(operation)
            chunk = items[start : start + size]
            yield {key: chunk, "IsTruncated": start + size < len(items)}

    def _profile_pages(
        self,
        PaginationConfig: dict[str, Any] | None = None,
    ) -> Iterator[dict[str, Any]]:
        items = [self._profile_item(n) for n in sorted(self.account.profiles)]
        return self._pages("ListInstanceProfiles", "InstanceProfiles", items, PaginationConfig)

    def _attached_pages(
        self,
        RoleName: str,
        PaginationConfig: dict[str, Any] | None = None,
    ) -> Iterator[dict[str, Any]]:
        role = self._role(RoleName, "ListAttachedRolePolicies")
        items = [{"PolicyArn": a, "PolicyName": a.rsplit("/", 1)[-1]} for a in role.attached]
        return self._pages("ListAttachedRolePolicies", "AttachedPolicies", items, PaginationConfig)

    def _inline_pages(
        self,
        RoleName: str,
        PaginationConfig: dict[str, Any] | None = None,
    ) -> Iterator[dict[str, Any]]:
        role = self._role(RoleName, "ListRolePolicies")
        return self._pages("ListRolePolicies", "PolicyNames", sorted(role.inline), PaginationConfig)

    def get_instance_profile(self, InstanceProfileName: str) -> dict[str, Any]:
        """One instance profile (``NoSuchEntity`` when absent)."""
        self._request("GetInstanceProfile")
        if InstanceProfileName not in self.account.profiles:
            raise _error("NoSuchEntity", "Instance Profile not found", "GetInstanceProfile")
        return {"InstanceProfile": self._profile_item(InstanceProfileName)}

    def get_role(self, RoleName: str) -> dict[str, Any]:
        """One role with its path and tags (no permissions boundary)."""
        self._request("GetRole")
        role = self._role(RoleName, "GetRole")
        return {
            "Role": {
                "RoleName": role.name,
                "Arn": role.arn,
                "Path": role.path,
                "Tags": [{"Key": k, "Value": v} for k, v in role.tags.items()],
            }
        }

    def get_role_policy(self, RoleName: str, PolicyName: str) -> dict[str, Any]:
        """An inline policy document (decoded, as boto3 returns it)."""
        self._request("GetRolePolicy")
        role = self._role(RoleName, "GetRolePolicy")
        return {"PolicyDocument": role.inline[PolicyName]}

    def get_policy(self, PolicyArn: str) -> dict[str, Any]:
        """A managed policy's metadata (default version ``v1``)."""
        self._request("GetPolicy")
        if PolicyArn not in self.account.policies:
            raise _error("NoSuchEntity", f"Policy {PolicyArn} does not exist", "GetPolicy")
        return {"Policy": {"Arn": PolicyArn, "DefaultVersionId": "v1"}}

    def get_policy_version(self, PolicyArn: str, VersionId: str) -> dict[str, Any]:
        """A managed policy's document."""
        self._request("GetPolicyVersion")
        return {"PolicyVersion": {"Document": self.account.policies[PolicyArn], "VersionId": "v1"}}

    def add_role_to_instance_profile(
        self,
        InstanceProfileName: str,
        RoleName: str,
    ) -> dict[str, Any]:
        """Add a role (``LimitExceeded`` when the profile has one: at most one role)."""
        self._request("AddRoleToInstanceProfile")
        if self.account.profiles.get(InstanceProfileName) is not None:
            raise _error(
                "LimitExceeded",
                "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1",
                "AddRoleToInstanceProfile",
            )
        self.account.profiles[InstanceProfileName] = RoleName
        self.account.mutations["AddRoleToInstanceProfile", InstanceProfileName] += 1
        return {}

    def attach_role_policy(self, RoleName: str, PolicyArn: str) -> dict[str, Any]:
        """Attach a managed policy (idempotent, as IAM is)."""
        self._request("AttachRolePolicy")
        role = self._role(RoleName, "AttachRolePolicy")
        if PolicyArn not in role.attached:
            role.attached.append(PolicyArn)
        self.account.mutations["AttachRolePolicy", f"{RoleName} {PolicyArn}"] += 1
        return {}
