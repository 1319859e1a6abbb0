"""A fake Entra ID managed identity: a TokenCredential minting JWT-shaped access tokens.

The claims are those of a Microsoft identity platform access token for a managed identity
(https://learn.microsoft.com/en-us/entra/identity-platform/access-token-claims-reference):
``iss`` (v1: ``https://sts.windows.net/<tenant>/``, v2:
``https://login.microsoftonline.com/<tenant>/v2.0``), ``aud`` (the scope's resource, the scope
without ``/.default``), ``sub`` and ``oid`` (the identity's object id), ``tid``, ``appid`` (v1) /
``azp`` (v2), ``iat`` / ``nbf`` / ``exp``. The signature is meaningless bytes: the emulator's STS
does not verify signatures (tests/emulator/web_identity.py says so).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from azure.core.credentials import AccessToken

from tests.emulator.web_identity import mint

TOKEN_SECONDS = 3600


class FakeManagedIdentity:
    """A TokenCredential for one managed identity of one tenant; counts the scopes asked for.

    Args:
        tenant_id: the Entra tenant (GUID).
        object_id: the managed identity's object (principal) id, the token's ``sub``.
        version: ``"v1"`` or ``"v2"`` token format (issuer and ``appid``/``azp``).
        lifetime: seconds until ``exp`` (negative: an expired token).
    """

    def __init__(
        self,
        tenant_id: str,
        object_id: str,
        *,
        version: str = "v1",
        lifetime: int = TOKEN_SECONDS,
    ) -> None:
        self.tenant_id = tenant_id
        self.object_id = object_id
        self.client_id = str(uuid.uuid5(uuid.NAMESPACE_URL, object_id))
        self.version = version
        self.lifetime = lifetime
        self.scopes: list[str] = []

    @property
    def issuer(self) -> str:
        """The ``iss`` claim of this identity's tokens."""
        if self.version == "v1":
            return f"https://sts.windows.net/{self.tenant_id}/"
        return f"https://login.microsoftonline.com/{self.tenant_id}/v2.0"

    def claims(self, scope: str) -> dict[str, Any]:
        """The claims of a token for ``scope`` (``<resource>/.default``)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": scope.removesuffix("/.default"),
            "sub": self.object_id,
            "oid": self.object_id,
            "tid": self.tenant_id,
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime,
            "ver": "1.0" if self.version == "v1" else "2.0",
        }
        claims["appid" if self.version == "v1" else "azp"] = self.client_id
        return claims

    def get_token(self, *scopes: str, **_kwargs: Any) -> AccessToken:
        """An access token for the first scope (ARM or the token exchange audience)."""
        scope = scopes[0]
        self.scopes.append(scope)
        claims = self.claims(scope)
        return AccessToken(mint(claims), int(claims["exp"]))
