"""The Athena named-query calls moto 5.2 lacks, for modules/central_reporting's saved queries.

``aws_athena_named_query`` reads with GetNamedQuery and deletes with DeleteNamedQuery: moto has
no DeleteNamedQuery, and its GetNamedQuery fails with a server error for an unknown id instead
of AWS's ``InvalidRequestException``. State stays moto's (``athena_backends[...].named_queries``).
"""

from __future__ import annotations

from typing import Any

from moto.athena.models import athena_backends
from moto.athena.responses import AthenaResponse
from moto.core.responses import ActionResult, EmptyResult

from .common import EmulatedError, parse_request

OPERATIONS = ("GetNamedQuery", "DeleteNamedQuery")


class _Operations:
    """Response methods; :func:`install` copies them onto moto's ``AthenaResponse``."""

    body: Any
    current_account: str
    region: str

    def _named_query(self, operation: str) -> Any:
        params = parse_request("athena", operation, self.body)
        backend = athena_backends[self.current_account][self.region]
        query = backend.named_queries.get(params["NamedQueryId"])
        if query is None:
            raise EmulatedError(
                "InvalidRequestException", f"NamedQuery {params['NamedQueryId']} does not exist"
            )
        return backend, query

    def get_named_query(self) -> ActionResult:
        _, query = self._named_query("GetNamedQuery")
        document = {
            "Name": query.name,
            "Database": query.database,
            "QueryString": query.query_string,
            "NamedQueryId": query.id,
            "WorkGroup": query.workgroup.name,
        }
        if query.description:
            document["Description"] = query.description
        return ActionResult({"NamedQuery": document})

    def delete_named_query(self) -> ActionResult:
        backend, query = self._named_query("DeleteNamedQuery")
        del backend.named_queries[query.id]
        return EmptyResult()


def install() -> None:
    """Add the emulated Athena operations to moto's ``AthenaResponse`` (idempotent)."""
    for name in ("get_named_query", "delete_named_query", "_named_query"):
        setattr(AthenaResponse, name, _Operations.__dict__[name])
