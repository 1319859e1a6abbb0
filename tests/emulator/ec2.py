"""What the emulator changes in moto's EC2: DescribeInstances paging as AWS pages, fast tag reads.

* **DescribeInstances paging.** moto 5.2.5 counts ``MaxResults`` in *reservations* (a
  RunInstances of 500 instances is one item) and, without ``MaxResults``, still answers pages
  of 100 reservations. AWS counts instances ("The maximum number of items to return for this
  request"; MaxResults 5-1000, not with ``InstanceIds``) and answers an unpaginated request
  with every match ("We strongly recommend using only paginated requests. Unpaginated requests
  are susceptible to throttling and timeouts",
  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html). The
  replacement pages by instances: a page of ``MaxResults`` instances, a reservation split
  across pages when it holds more, ``NextToken`` an offset; no ``MaxResults`` (and no token):
  every match in one answer. AWS may also return fewer than ``MaxResults`` items with a
  token; the emulator fills every page.
* **Tag reads.** moto reads one EC2 resource's tags (``TaggedEC2Resource.get_tags``: for every
  instance DescribeInstances filters or returns, and for every managed node the agent
  evaluates) with ``TagBackend.describe_tags(filters={"resource-id": [id]})``, matching a
  regular expression against every tag of every resource in the Region: describing a
  2,000-instance fleet took tens of seconds a call. That exact query (one id without filter
  wildcards) is answered from the resource's own tag dict, same order and shape; every other
  query goes to moto's method.
"""

from __future__ import annotations

import copy
from typing import Any

_ORIGINAL: dict[str, Any] = {}
# Characters moto's filter translation (fnmatch) treats as patterns.
_PATTERN_CHARS = frozenset("*?[\\")


def _describe_tags(self: Any, filters: dict[str, list[str]] | None = None) -> list[dict[str, str]]:
    """``TagBackend.describe_tags`` with a direct lookup for one exact resource id."""
    from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix  # noqa: PLC0415

    ids = filters.get("resource-id") if filters else None
    if filters and list(filters) == ["resource-id"] and ids and len(ids) == 1:
        resource_id = str(ids[0])
        if not _PATTERN_CHARS & set(resource_id):
            tags: dict[str, str] = dict(self.tags.get(resource_id) or {})
            kind = EC2_PREFIX_TO_RESOURCE.get(get_prefix(resource_id), "")
            return [
                {"resource_id": resource_id, "key": key, "value": value, "resource_type": kind}
                for key, value in tags.items()
            ]
    result: list[dict[str, str]] = _ORIGINAL["describe_tags"](self, filters)
    return result


def page_instances(
    reservations: list[Any], max_results: int | None, token: str | None
) -> tuple[list[Any], str | None]:
    """One page of ``max_results`` instances out of ``reservations``, and the next token.

    Args:
        reservations: moto ``Reservation`` objects (copies: their ``instances`` may be cut).
        max_results: instances per page; None with no ``token`` returns everything.
        token: the ``NextToken`` of the previous page (an instance offset), or None.

    Returns:
        ``(reservations of the page, each holding only its instances on this page, NextToken
        or None)``.

    Raises:
        ValueError: ``token`` is not an offset this function issued.
    """
    if max_results is None and not token:
        return reservations, None
    pairs = [(r, i) for r in reservations for i in r.instances]
    if token and (not token.isdigit() or int(token) > len(pairs)):
        raise ValueError(token)
    start = int(token) if token else 0
    end = start + (max_results or 1000)
    page: list[Any] = []
    for reservation, instance in pairs[start:end]:
        if not page or page[-1].id != reservation.id:
            part = copy.copy(reservation)
            part.instances = []
            page.append(part)
        page[-1].instances.append(instance)
    return page, (str(end) if end < len(pairs) else None)


def _describe_instances(self: Any) -> Any:
    """moto's ``InstanceResponse.describe_instances``, paging by instances (module docstring)."""
    from moto.core.responses import ActionResult  # noqa: PLC0415
    from moto.ec2.exceptions import (  # noqa: PLC0415
        InvalidNextToken,
        InvalidParameterCombination,
    )

    self.error_on_dryrun()
    if "InstanceId.1" in self.data and "MaxResults" in self.data:
        raise InvalidParameterCombination(
            "The parameter instancesSet cannot be used with the parameter maxResults"
        )
    filter_dict = self._filters_from_querystring()
    instance_ids = self._get_param("InstanceIds", [])
    if instance_ids:
        reservations = self.ec2_backend.get_reservations_by_instance_ids(
            instance_ids, filters=filter_dict
        )
    else:
        reservations = self.ec2_backend.describe_instances(filters=filter_dict)
    raw = self._get_param("MaxResults")
    token = self._get_param("NextToken")
    try:
        found, next_token = page_instances(
            reservations, int(raw) if raw is not None else None, token
        )
    except ValueError:
        raise InvalidNextToken(str(token)) from None
    return ActionResult({"Reservations": found, "NextToken": next_token})


def install() -> None:
    """Replace ``TagBackend.describe_tags`` and ``InstanceResponse.describe_instances``
    (idempotent)."""
    from moto.ec2.models.tags import TagBackend  # noqa: PLC0415
    from moto.ec2.responses.instances import InstanceResponse  # noqa: PLC0415

    if _ORIGINAL:
        return
    _ORIGINAL["describe_tags"] = TagBackend.describe_tags
    _ORIGINAL["describe_instances"] = InstanceResponse.describe_instances
    TagBackend.describe_tags = _describe_tags  # type: ignore[method-assign]
    InstanceResponse.describe_instances = _describe_instances  # type: ignore[method-assign]
