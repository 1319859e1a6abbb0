"""Benchmark: the role-check sweep of a 50,000-instance account, throttled, under Lambda's deadline.

Fleet: 50,000 instances; a third without an instance profile, a third whose profile's role lacks
SSM (250 roles holding only a read-only policy), a third compliant (250 roles with
AmazonSSMManagedInstanceCore). The AWS side is :mod:`tests.fake_ec2_iam`: boto3-shaped EC2 and
IAM clients on a simulated clock, with EC2's documented token buckets
(https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html:
AssociateIamInstanceProfile 100 then 5 a second; the paginated, filtered describes 100 then 20 a
second), assumed IAM buckets
(IAM publishes no request rate), a throttled request refused at once (no retry: stricter than
botocore), and each invocation killed (:class:`~tests.fake_ec2_iam.LambdaTimeout`) if it runs past
its 900 s deadline. The function code is the real one (:func:`ssm_role_check.handler.handle`); its
continuations (asynchronous self-invocations) are queued and run one after the other, 1 s apart.

Recorded: ``invocations``; ``continuations`` (stops before the deadline that handed on);
``deadline_hits`` (invocations that hit Lambda's timeout: must be 0); ``converged`` (every instance
has a profile whose role reaches SSM, and no instance or role was changed twice);
``simulated_seconds`` to converge; ``api_calls`` against ``baseline.floor_calls``: the describe
pages of one pass (1000 instances a page; the associations of the instances without a profile
looked up by the cheaper of 200 ids a call or 1000 a page), one ListInstanceProfiles page, one
ListAttachedRolePolicies per distinct role, and one mutating call per change (an association per
instance without a profile, an attachment per lacking role). ``baseline.simulated_floor_seconds``
is the time the associations need at the documented refill rate after the bucket's 100.
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_SRC = ROOT / "lambda_src"
for path in (str(ROOT), str(LAMBDA_SRC)):
    if path not in sys.path:
        sys.path.insert(0, path)

from tests.fake_ec2_iam import (  # noqa: E402 (after the path set-up)
    EC2_BUCKETS,
    FakeAccount,
    FakeEC2,
    FakeIAM,
    FakeInstance,
    FakeRole,
    LambdaClock,
    LambdaTimeout,
)
from tools.bench import peak_rss_mb  # noqa: E402

N_INSTANCES = 50_000
N_ROLES_EACH = 250
TIMEOUT_SECONDS = 900.0
INVOKE_DELAY_SECONDS = 1.0
MAX_INVOCATIONS = 40
CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
SSM_PROFILE = "fleetpatch-ssm"
SCHEDULED = {
    "version": "0",
    "id": "89d1a02d-5ec7-412e-82f5-13505f849b41",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-12-01T03:00:00Z",
    "region": "us-west-2",
    "resources": ["arn:aws:events:us-west-2:123456789012:rule/fleetpatch-role-check-sweep"],
    "detail": {},
}


def build_account(
    clock: LambdaClock, n: int = N_INSTANCES, roles_each: int = N_ROLES_EACH, seed: int = 15
) -> FakeAccount:
    """The fleet described in the module docstring, in a :class:`FakeAccount`."""
    rng = random.Random(seed)
    account = FakeAccount(clock)
    account.policies = {
        CORE: {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["ssm:*", "ssmmessages:*", "ec2messages:*"],
                    "Resource": "*",
                }
            ],
        },
        READ_ONLY: {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["ec2:Describe*"], "Resource": "*"}],
        },
    }
    account.roles[SSM_PROFILE] = FakeRole(SSM_PROFILE, [CORE])
    account.profiles[SSM_PROFILE] = SSM_PROFILE
    for k in range(roles_each):
        for kind, policy in (("ok", CORE), ("lack", READ_ONLY)):
            name = f"app-{kind}-{k:03d}"
            account.roles[name] = FakeRole(name, [policy])
            account.profiles[name] = name
    ids: set[str] = set()
    while len(ids) < n:
        ids.add(f"i-{rng.getrandbits(68):017x}")
    ordered = sorted(ids)
    rng.shuffle(ordered)
    third = n // 3
    for k, instance_id in enumerate(ordered):
        if k < third:
            profile = None
        elif k < 2 * third:
            profile = account.profile_arn(f"app-lack-{k % roles_each:03d}")
        else:
            profile = account.profile_arn(f"app-ok-{k % roles_each:03d}")
        account.instances[instance_id] = FakeInstance(instance_id, "running", profile)
    return account


def converged(account: FakeAccount) -> bool:
    """Every instance has a profile whose role has the SSM policy."""
    for instance in account.instances.values():
        if instance.profile_arn is None:
            return False
        role = account.profiles[instance.profile_arn.rsplit("/", 1)[-1]]
        if role is None or CORE not in account.roles[role].attached:
            return False
    return True


def floor(account_before: dict[str, int], n: int) -> dict[str, int]:
    """The fewest calls one pass needs, by operation (see the module docstring)."""
    without = account_before["without"]
    return {
        "DescribeInstances": math.ceil(n / 1000),
        "DescribeIamInstanceProfileAssociations": min(
            math.ceil(without / 200), math.ceil(n / 1000)
        ),
        "ListInstanceProfiles": math.ceil(account_before["profiles"] / 1000),
        "ListAttachedRolePolicies": account_before["roles"],
        "AssociateIamInstanceProfile": without,
        "AttachRolePolicy": account_before["lacking_roles"],
    }


def run_sweep(account: FakeAccount, clock: LambdaClock) -> dict[str, Any]:
    """Run the scheduled sweep and its continuations until none is left; what happened."""
    from ssm_role_check import handler  # noqa: PLC0415 (after the path set-up)
    from ssm_role_check.config import load_config  # noqa: PLC0415
    from ssm_role_check.sweep import RatePacer, load_sweep_settings  # noqa: PLC0415

    handler.logger.setLevel("WARNING")
    config = load_config(
        {
            "AWS_REGION": "us-west-2",
            "SSM_INSTANCE_PROFILE_NAME": SSM_PROFILE,
            "SSM_ROLE_NAME": SSM_PROFILE,
        }
    )
    settings = load_sweep_settings({})
    queue: deque[dict[str, Any]] = deque([SCHEDULED])
    invocations: list[dict[str, Any]] = []
    timeouts = 0
    while queue and len(invocations) < MAX_INVOCATIONS:
        event = queue.popleft()
        started = clock.now
        clock.deadline = started + TIMEOUT_SECONDS
        ec2, iam = FakeEC2(account), FakeIAM(account)
        counter = handler.CallCounter()
        for client in (ec2, iam):
            client.meta.events.register("before-call.*.*", counter)
        try:
            result = handler.handle(
                event,
                config,
                settings,
                clients=lambda ec2=ec2, iam=iam: (ec2, iam),  # type: ignore[misc]
                remaining_ms=clock.remaining_ms,
                continue_sweep=queue.append,
                counter=counter,
                pacer=RatePacer(clock=clock.time, sleep=clock.sleep),
            )
        except LambdaTimeout:
            timeouts += 1
            invocations.append({"timed_out": True, "seconds": round(clock.now - started, 1)})
            break
        finally:
            clock.deadline = None
        sweep = result.get("sweep", {})
        invocations.append(
            {
                "generation": sweep.get("generation"),
                "instances": result["instances"],
                "changes": sum(result["changes"].values()),
                "failed": len(result["failed"]),
                "api_calls": result["api_calls"],
                "simulated_seconds": round(clock.now - started, 1),
                "stopped_at_deadline": sweep.get("stopped_at_deadline"),
                "remaining": sweep.get("remaining"),
                "continuation": sweep.get("continuation"),
            }
        )
        clock.advance(INVOKE_DELAY_SECONDS)
    return {"invocations": invocations, "timeouts": timeouts, "pending": len(queue)}


def run() -> list[dict[str, Any]]:
    """The bench entry (see the module docstring)."""
    clock = LambdaClock()
    account = build_account(clock)
    before = {
        "without": sum(1 for i in account.instances.values() if i.profile_arn is None),
        "profiles": len(account.profiles),
        "roles": len(account.roles),
        "lacking_roles": sum(1 for r in account.roles.values() if CORE not in r.attached),
    }
    start = time.perf_counter()
    outcome = run_sweep(account, clock)
    seconds = time.perf_counter() - start
    invocations = outcome["invocations"]
    changed_twice = sum(1 for count in account.mutations.values() if count > 1)
    floor_by_operation = floor(before, N_INSTANCES)
    api_calls = sum(account.calls.values())
    capacity, refill = EC2_BUCKETS["AssociateIamInstanceProfile"]
    is_converged = (
        converged(account)
        and changed_twice == 0
        and outcome["pending"] == 0
        and outcome["timeouts"] == 0
        and not account.throttled
    )
    return [
        {
            "name": "role_check_sweep_at_scale",
            "n": N_INSTANCES,
            "seconds": round(seconds, 3),
            "api_calls": api_calls,
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "baseline": {
                "floor_calls": sum(floor_by_operation.values()),
                "floor_by_operation": floor_by_operation,
                "calls_by_operation": dict(sorted(account.calls.items())),
                "over_floor_by_operation": {
                    op: account.calls.get(op, 0) - floor_by_operation.get(op, 0)
                    for op in sorted(set(account.calls) | set(floor_by_operation))
                    if account.calls.get(op, 0) != floor_by_operation.get(op, 0)
                },
                "simulated_floor_seconds": round(
                    max(0.0, before["without"] - capacity) / refill, 1
                ),
            },
            "invocations": len(invocations),
            "continuations": sum(1 for i in invocations if i.get("continuation") == "invoked"),
            "deadline_hits": outcome["timeouts"],
            "converged": is_converged,
            "simulated_seconds": round(clock.now, 1),
            "lambda_timeout_seconds": TIMEOUT_SECONDS,
            "throttled": dict(account.throttled),
            "changed_twice": changed_twice,
            "instances_changed": sum(
                1 for (op, _), c in account.mutations.items() if op == "AssociateIamInstanceProfile"
            ),
            "roles_changed": sum(
                1 for (op, _), c in account.mutations.items() if op == "AttachRolePolicy"
            ),
            "per_invocation": invocations,
        }
    ]


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
