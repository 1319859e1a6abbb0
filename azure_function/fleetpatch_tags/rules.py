r"""Azure's tag rules and the per-VM plan: which required tags a VM lacks and which it can take.

Pure functions, no Azure calls. Azure's rules (Resource Manager, not ours):

- tag names are case-insensitive: an existing ``owner`` satisfies a required ``Owner``;
- a resource holds at most 50 tags;
- a name has at most 512 characters, a value at most 256;
- a name cannot contain ``< > % & \ ? /``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

MAX_TAGS_PER_RESOURCE = 50
MAX_NAME_LENGTH = 512
MAX_VALUE_LENGTH = 256
FORBIDDEN_NAME_CHARACTERS = frozenset("<>%&\\?/")


def tag_name_problem(name: str) -> str | None:
    """Return why ``name`` is not a valid Azure tag name, or ``None`` when it is valid."""
    if not name or not name.strip():
        return "tag name is empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"tag name has {len(name)} characters (Azure allows at most {MAX_NAME_LENGTH})"
    bad = sorted(FORBIDDEN_NAME_CHARACTERS.intersection(name))
    if bad:
        return f"tag name contains {' '.join(bad)} (Azure forbids < > % & \\ ? /)"
    return None


def tag_value_problem(value: str) -> str | None:
    """Return why ``value`` is not a valid required tag value, or ``None`` when it is valid.

    Azure accepts empty values, but a required tag with an empty value satisfies nothing, so
    empty values are refused here.
    """
    if not value:
        return "tag value is empty"
    if len(value) > MAX_VALUE_LENGTH:
        return f"tag value has {len(value)} characters (Azure allows at most {MAX_VALUE_LENGTH})"
    return None


def has_tag(existing: Mapping[str, str], name: str) -> bool:
    """Whether ``existing`` holds a tag named ``name`` (case-insensitive, as in Azure)."""
    folded = name.casefold()
    return any(key.casefold() == folded for key in existing)


@dataclass(frozen=True)
class TagPlan:
    """What one VM needs.

    Attributes:
        add: tags to add with a merge, in configuration order (``{name: value}``).
        blocked: required tags that cannot be added, ``{name: reason}`` (50-tag limit, or no value
            can be derived for this VM).
    """

    add: dict[str, str] = field(default_factory=dict)
    blocked: dict[str, str] = field(default_factory=dict)

    @property
    def compliant(self) -> bool:
        """True when the VM already carries every required tag."""
        return not self.add and not self.blocked


def plan_tags(
    existing: Mapping[str, str], wanted: Mapping[str, str | None], reasons: Mapping[str, str]
) -> TagPlan:
    """Work out which of the ``wanted`` tags a VM with tags ``existing`` must get.

    Args:
        existing: the VM's current tags.
        wanted: required tag name -> value for this VM, in configuration order; ``None`` when no
            value can be derived for this VM (``reasons[name]`` says why).
        reasons: why a ``None`` value could not be derived, by tag name.

    Returns:
        A :class:`TagPlan`. A tag already present under any letter case is left alone (its value
        is never compared or overwritten). Tags that would take the VM past 50 tags are blocked,
        the earlier ones in configuration order are kept.
    """
    add: dict[str, str] = {}
    blocked: dict[str, str] = {}
    room = MAX_TAGS_PER_RESOURCE - len(existing)
    for name, value in wanted.items():
        if has_tag(existing, name):
            continue
        if value is None:
            blocked[name] = reasons.get(name, "no value can be derived for this VM")
        elif room <= 0:
            blocked[name] = (
                f"the VM already has {len(existing) + len(add)} tags; "
                f"Azure allows at most {MAX_TAGS_PER_RESOURCE}"
            )
        else:
            add[name] = value
            room -= 1
    return TagPlan(add=add, blocked=blocked)
