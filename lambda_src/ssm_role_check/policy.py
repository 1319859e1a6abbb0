"""Does a set of IAM policy documents let an instance work as an SSM managed node?

The **SSM core actions** (:data:`REQUIRED_ACTIONS`) are what fleetpatch needs from a managed
node, a subset of ``AmazonSSMManagedInstanceCore``:

* register and heartbeat: ``ssm:UpdateInstanceInformation``;
* the two command channels: ``ssmmessages:CreateControlChannel``, ``CreateDataChannel``,
  ``OpenControlChannel``, ``OpenDataChannel`` and ``ec2messages:AcknowledgeMessage``,
  ``DeleteMessage``, ``FailMessage``, ``GetEndpoint``, ``GetMessages``, ``SendReply``;
* associations (the inventory association): ``ssm:ListInstanceAssociations``,
  ``ssm:DescribeAssociation``, ``ssm:GetDocument``, ``ssm:UpdateInstanceAssociationStatus``;
* patching and reporting with AWS-RunPatchBaseline: ``ssm:GetDeployablePatchSnapshotForInstance``,
  ``ssm:PutComplianceItems``, ``ssm:PutInventory``.

The evaluation is deliberately conservative, because its only consequence is attaching one more
AWS managed policy (additive, never removing anything):

* an ``Allow`` statement counts only when it has no ``Condition`` and no ``NotResource`` and
  its ``Resource`` includes ``"*"`` or an ARN pattern matching every ARN
  (:func:`covers_all_resources`: ``arn:aws:*``, ``arn:*:*``, ``arn:aws:*:*:*:*``); ``Action``
  and ``NotAction`` are matched with IAM wildcards (``*`` and ``?``, case-insensitive);
* an unconditional ``Deny`` on all resources (as above) that covers a required action blocks
  it (attaching a policy would not help, so nothing is attached and the instance is reported);
* SCPs and resource-scoped grants are not evaluated.

A **permissions boundary** is evaluated apart (:func:`evaluate_boundary`), because it works the
other way round: it grants nothing, and an action is allowed only when an identity policy *and*
the boundary allow it; an explicit Deny in the boundary wins (IAM User Guide, "Permissions
boundaries for IAM entities", evaluation logic:
https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html). A boundary
blocks (nothing is attached) only when it *provably* denies a required action; one the check can
prove neither way (a conditional ``Deny``, a conditional-only ``Allow``) gets the policy attached
(harmless) and the role reported ``boundary_unproven``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import unquote

REQUIRED_ACTIONS: frozenset[str] = frozenset(
    {
        "ssm:UpdateInstanceInformation",
        "ssm:ListInstanceAssociations",
        "ssm:DescribeAssociation",
        "ssm:GetDocument",
        "ssm:UpdateInstanceAssociationStatus",
        "ssm:GetDeployablePatchSnapshotForInstance",
        "ssm:PutComplianceItems",
        "ssm:PutInventory",
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
        "ec2messages:AcknowledgeMessage",
        "ec2messages:DeleteMessage",
        "ec2messages:FailMessage",
        "ec2messages:GetEndpoint",
        "ec2messages:GetMessages",
        "ec2messages:SendReply",
    }
)


@dataclass
class Grants:
    """Required actions allowed and explicitly denied by the documents seen so far."""

    allowed: set[str] = field(default_factory=set)
    denied: set[str] = field(default_factory=set)

    @property
    def complete(self) -> bool:
        """True when every required action is allowed and none is denied."""
        return self.allowed >= REQUIRED_ACTIONS and not self.denied

    @property
    def blocked(self) -> bool:
        """True when an explicit Deny covers at least one required action."""
        return bool(self.denied)

    def missing(self) -> list[str]:
        """The required actions not (yet) allowed, sorted."""
        return sorted(REQUIRED_ACTIONS - self.allowed)


_SERVICES = frozenset(a.split(":", 1)[0].lower() for a in REQUIRED_ACTIONS)


def _relevant(globs: list[str]) -> list[str]:
    """The lower-cased globs that can match a required action (others are skipped cheaply).

    Broad policies such as ReadOnlyAccess list thousands of actions; only those whose service
    prefix is one of the required services (or holds a wildcard) are matched.
    """
    kept: list[str] = []
    for glob in globs:
        lowered = glob.lower()
        service = lowered.split(":", 1)[0]
        if service in _SERVICES or "*" in service or "?" in service:
            kept.append(lowered)
    return kept


def _matches(action: str, globs: list[str]) -> bool:
    lowered = action.lower()
    return any(lowered == g or fnmatchcase(lowered, g) for g in globs)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _covered(statement: Mapping[str, Any]) -> set[str]:
    """Required actions named by the statement's Action or NotAction."""
    if "Action" in statement:
        globs = _relevant([str(a) for a in _as_list(statement["Action"])])
        return {a for a in REQUIRED_ACTIONS if _matches(a, globs)}
    if "NotAction" in statement:
        globs = _relevant([str(a) for a in _as_list(statement["NotAction"])])
        return {a for a in REQUIRED_ACTIONS if not _matches(a, globs)}
    return set()


def parse_document(document: Any) -> Mapping[str, Any]:
    """Return a policy document as a mapping.

    Args:
        document: what IAM returned: a dict (boto3 decodes policy documents) or a JSON string,
            possibly URL-encoded.

    Returns:
        The document; an empty mapping when it cannot be read (it then grants nothing).
    """
    if isinstance(document, Mapping):
        return document
    if isinstance(document, str):
        for text in (document, unquote(document)):
            try:
                parsed = json.loads(text)
            except ValueError:
                continue
            if isinstance(parsed, Mapping):
                return parsed
    return {}


def add_document(grants: Grants, document: Any) -> Grants:
    """Fold one policy document into ``grants`` (in place) and return it.

    Args:
        grants: the accumulator for one role.
        document: an IAM policy document (see :func:`parse_document`).

    Returns:
        ``grants``, updated with the required actions this document allows or denies.
    """
    for statement in _as_list(parse_document(document).get("Statement")):
        if not isinstance(statement, Mapping):
            continue
        if not _unconditional_on_all(statement):
            continue
        effect = statement.get("Effect")
        if effect == "Allow":
            grants.allowed |= _covered(statement)
        elif effect == "Deny":
            grants.denied |= _covered(statement)
    return grants


def evaluate(documents: Iterable[Any]) -> Grants:
    """Evaluate several policy documents together (grants add up across documents).

    Args:
        documents: IAM policy documents (dicts or JSON strings).

    Returns:
        The combined :class:`Grants`.
    """
    grants = Grants()
    for document in documents:
        add_document(grants, document)
    return grants


@dataclass(frozen=True)
class BoundaryVerdict:
    """Whether a permissions boundary lets the SSM core actions through.

    Attributes:
        denied: required actions an unconditional ``Deny`` on all resources covers (never
            allowed).
        not_allowed: required actions no ``Allow`` statement of the boundary covers at all
            (implicitly denied).
        unproven: required actions the boundary allows only under a ``Condition``, only on some
            resources (``Resource`` without ``"*"`` or an all-ARN pattern, or ``NotResource``),
            or that a conditional or resource-scoped ``Deny`` may cover: the check can prove
            neither that they are allowed nor that they are denied.
    """

    denied: frozenset[str] = frozenset()
    not_allowed: frozenset[str] = frozenset()
    unproven: frozenset[str] = frozenset()

    @property
    def allows(self) -> bool:
        """True when every required action is provably allowed by the boundary."""
        return not (self.denied or self.not_allowed or self.unproven)

    @property
    def blocks(self) -> bool:
        """True when the boundary provably denies a required action (explicitly or implicitly).

        Only then is attaching a policy pointless; an :attr:`unproven` boundary (e.g. AWS's
        common Region-restriction boundary: a ``Deny`` with ``aws:RequestedRegion``) does not
        block: the policy is attached and the role reported as ``boundary_unproven``.
        """
        return bool(self.denied or self.not_allowed)

    def describe(self) -> str:
        """A one-line reason for the summary (empty when :attr:`allows`)."""
        parts: list[str] = []
        if self.denied:
            parts.append("explicitly denies " + ", ".join(sorted(self.denied)))
        if self.not_allowed:
            parts.append("does not allow " + ", ".join(sorted(self.not_allowed)))
        if self.unproven:
            parts.append(
                "allows only under a condition or on some resources, or may deny under a "
                "condition (cannot prove allowed) " + ", ".join(sorted(self.unproven))
            )
        return "; ".join(parts)


_ALL_ARN_REST = re.compile(r"^[*:]*\*$")


def covers_all_resources(pattern: str, partition: str | None = None) -> bool:
    """True when an IAM ``Resource`` pattern matches every resource (of ``partition``).

    ``"*"``, and ARN patterns whose partition matches (``*`` or ``partition``; any partition
    when ``partition`` is ``None``) and whose rest is only wildcards: ``arn:aws:*``,
    ``arn:*:*``, ``arn:aws:*:*:*:*``, ``arn:*``. IAM's ``*`` in a resource ARN matches any
    characters (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).
    Anything narrower (``arn:aws:ssm:*:*:*``) is not "every resource": the SSM core actions
    also touch ``ec2messages``/``ssmmessages`` and EC2 instance resources.

    Args:
        pattern: one entry of a statement's ``Resource`` (or ``NotResource``).
        partition: the partition of the policy's ARN (``aws``, ``aws-cn``, ``aws-us-gov``...).
    """
    if pattern == "*":
        return True
    if not pattern.startswith("arn:"):
        return False
    rest = pattern[4:]
    if _ALL_ARN_REST.match(rest):
        return True
    head, _, tail = rest.partition(":")
    if not tail or not _ALL_ARN_REST.match(tail):
        return False
    if partition is None:
        return True
    return fnmatchcase(partition, head)


def _unconditional_on_all(statement: Mapping[str, Any], partition: str | None = None) -> bool:
    return (
        "Condition" not in statement
        and "NotResource" not in statement
        and any(
            covers_all_resources(str(r), partition) for r in _as_list(statement.get("Resource"))
        )
    )


def _excludes_all(statement: Mapping[str, Any], partition: str | None) -> bool:
    """True when the statement's ``NotResource`` excludes every resource (it applies to none)."""
    return any(
        covers_all_resources(str(r), partition) for r in _as_list(statement.get("NotResource"))
    )


def evaluate_boundary(document: Any, partition: str | None = None) -> BoundaryVerdict:
    """Evaluate a permissions boundary policy document against :data:`REQUIRED_ACTIONS`.

    IAM's rule (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html):
    the effective permissions are the intersection of the identity-based policies and the
    boundary, and an explicit deny in either overrides an allow. Per required action:

    * an ``Allow`` with ``Action``/``NotAction`` matching it (IAM wildcards ``*``/``?``,
      case-insensitive), no ``Condition``, no ``NotResource`` and a ``Resource`` matching every
      resource (:func:`covers_all_resources`) proves it allowed; a matching ``Allow`` with a
      condition or narrower resources makes it unproven;
    * a matching ``Deny`` without condition on all resources denies it; a matching conditional
      or resource-scoped ``Deny`` makes it unproven (it may or may not apply to the node's
      requests: e.g. a ``Deny`` outside some ``aws:RequestedRegion``);
    * no matching ``Allow`` at all: not allowed (implicit deny);
    * a statement whose ``NotResource`` excludes every resource applies to nothing.

    Only ``denied`` / ``not_allowed`` prove the boundary blocks (:attr:`BoundaryVerdict.blocks`).

    Args:
        document: the boundary policy's default version document (dict, or JSON string,
            possibly URL-encoded); an unreadable document allows nothing.
        partition: the boundary policy's partition (from its ARN), to read ``arn:aws:*``
            patterns; ``None`` accepts any partition.

    Returns:
        The :class:`BoundaryVerdict`.
    """
    allowed: set[str] = set()
    maybe_allowed: set[str] = set()
    denied: set[str] = set()
    maybe_denied: set[str] = set()
    for statement in _as_list(parse_document(document).get("Statement")):
        if not isinstance(statement, Mapping):
            continue
        covered = _covered(statement)
        if not covered or _excludes_all(statement, partition):
            continue
        certain = _unconditional_on_all(statement, partition)
        effect = statement.get("Effect")
        if effect == "Allow":
            (allowed if certain else maybe_allowed).update(covered)
        elif effect == "Deny":
            (denied if certain else maybe_denied).update(covered)
    not_allowed = REQUIRED_ACTIONS - allowed - maybe_allowed - denied
    return BoundaryVerdict(
        denied=frozenset(denied),
        not_allowed=frozenset(not_allowed),
        unproven=frozenset(((maybe_allowed - allowed) | maybe_denied) - denied - not_allowed),
    )
