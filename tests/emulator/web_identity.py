"""STS AssumeRoleWithWebIdentity, evaluated against IAM OIDC identity providers and trust policies.

moto 5.2's ``assume_role_with_web_identity`` hands out credentials for any token and any role.
AWS does not: the request is unsigned, and the token decides
(https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_oidc.html). The request hook
(:mod:`tests.emulator.auth`) calls :func:`check` before moto answers; it refuses, in AWS's order:

* a token that is not a JWT (three base64url parts, JSON header and claims), or signed with
  ``alg`` ``none`` — ``InvalidIdentityToken``;
* an ``iss`` for which the role's account has no IAM OIDC provider (the provider's URL is the
  issuer without ``https://``) — ``InvalidIdentityToken`` "No OpenIDConnect provider found in
  your account for <iss>";
* an ``aud`` none of whose values is in the provider's client id list — ``InvalidIdentityToken``
  "Incorrect token audience";
* an ``exp`` in the past — ``ExpiredTokenException``; a ``DurationSeconds`` above the role's
  maximum session duration — ``ValidationError``;
* then the role's trust policy, evaluated by :mod:`tests.emulator.iam` for the federated
  principal (``Principal: {"Federated": <provider ARN>}``, action
  ``sts:AssumeRoleWithWebIdentity``) with the web identity keys ``<url>:aud`` (the ``aud``
  claim), ``<url>:sub``, ``<url>:amr`` and ``aws:FederatedProvider``
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif)
  — ``AccessDenied`` "Not authorized to perform sts:AssumeRoleWithWebIdentity" (403).

Not faithful: the token's signature is not verified (AWS fetches the issuer's JWKS through
``/.well-known/openid-configuration``; the emulator has no network and the fake Entra side signs
nothing), ``iat`` / ``nbf`` are not checked, and the ``azp``/``oaud`` mapping AWS documents for
Google (``accounts.google.com:aud`` is ``azp`` when present) is not applied to other issuers. A
forged token with the right claims is accepted here; on AWS only the issuer's key can sign one.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any

from . import iam
from .common import EmulatedError, Json

ACTION = "sts:AssumeRoleWithWebIdentity"


class WebIdentityDenied(EmulatedError):
    """A refused AssumeRoleWithWebIdentity: ``status`` is the HTTP status AWS answers."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(code, message)
        self.status = status


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def decode(token: str) -> tuple[Json, Json]:
    """``(header, claims)`` of a JWT (no signature check).

    Raises:
        WebIdentityDenied: ``InvalidIdentityToken`` — not three base64url parts of JSON objects.
    """
    parts = token.split(".")
    try:
        if len(parts) != 3:
            raise ValueError("not three parts")
        header = json.loads(_b64(parts[0]))
        claims = json.loads(_b64(parts[1]))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise WebIdentityDenied(
            "InvalidIdentityToken", "The web identity token that was passed is not a valid JWT."
        ) from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise WebIdentityDenied(
            "InvalidIdentityToken", "The web identity token that was passed is not a valid JWT."
        )
    return header, claims


def _provider(account_id: str, issuer: str) -> Any | None:
    """moto's OIDC provider of ``account_id`` whose URL is ``issuer`` (scheme dropped)."""
    url = issuer.removeprefix("https://")
    backend = iam._iam_backend(account_id)
    for provider in list(backend.open_id_providers.values()):
        if provider.url == url:
            return provider
    return None


def check(params: Json, now: float | None = None) -> iam.Principal:
    """Raise unless AWS would answer the AssumeRoleWithWebIdentity request ``params``.

    Args:
        params: the request (``RoleArn``, ``WebIdentityToken``, ``DurationSeconds``).
        now: epoch seconds (default: the clock).

    Returns:
        The federated principal the trust policy allowed (``arn`` = the provider ARN).

    Raises:
        WebIdentityDenied: ``InvalidIdentityToken``, ``ExpiredTokenException``,
            ``ValidationError`` (duration) or ``AccessDenied`` (the trust policy; recorded in
            :func:`tests.emulator.iam.denials`), as listed in the module docstring.
    """
    role_arn = str(params.get("RoleArn", ""))
    header, claims = decode(str(params.get("WebIdentityToken", "")))
    if str(header.get("alg", "")).lower() in {"", "none"}:
        raise WebIdentityDenied(
            "InvalidIdentityToken", "The web identity token that was passed is not signed."
        )
    account, name = iam._split_role_arn(role_arn)
    issuer = str(claims.get("iss", ""))
    provider = _provider(account, issuer) if account else None
    if provider is None:
        raise WebIdentityDenied(
            "InvalidIdentityToken", f"No OpenIDConnect provider found in your account for {issuer}"
        )
    audiences = claims.get("aud")
    audiences = [audiences] if isinstance(audiences, str) else list(audiences or [])
    if not set(map(str, audiences)) & set(provider.client_id_list):
        raise WebIdentityDenied("InvalidIdentityToken", "Incorrect token audience")
    expires = claims.get("exp")
    current = time.time() if now is None else now
    if not isinstance(expires, int | float) or expires <= current:
        raise WebIdentityDenied(
            "ExpiredTokenException", "Token expired: the token's exp is not in the future"
        )
    principal = iam.Principal(account_id=account, arn=provider.arn, kind="federated")
    role = iam.find_role(account, name) if name else None
    if role is None:
        iam.record_denial(principal, ACTION, role_arn)
        raise WebIdentityDenied("AccessDenied", f"Not authorized to perform {ACTION}", 403)
    duration = int(params.get("DurationSeconds") or 3600)
    if duration > int(getattr(role, "max_session_duration", 3600) or 3600):
        raise WebIdentityDenied(
            "ValidationError",
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        )
    key = provider.url
    context: Json = {
        f"{key}:sub": str(claims.get("sub", "")),
        "aws:FederatedProvider": provider.arn,
    }
    context[f"{key}:aud"] = [str(a) for a in audiences]
    if "amr" in claims:
        context[f"{key}:amr"] = [str(a) for a in claims["amr"]]
    try:
        iam.check_trust(principal, role_arn, ACTION, context)
    except iam.AccessDenied:
        raise WebIdentityDenied(
            "AccessDenied", f"Not authorized to perform {ACTION}", 403
        ) from None
    return principal


def mint(claims: Json, alg: str = "RS256") -> str:
    """A JWT-shaped token with ``claims`` and a meaningless signature (tests, the fake Entra)."""

    def part(data: Json | bytes) -> str:
        raw = data if isinstance(data, bytes) else json.dumps(data).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return ".".join((part({"typ": "JWT", "alg": alg, "kid": "emulator"}), part(claims), part(b"x")))


__all__ = ["ACTION", "WebIdentityDenied", "check", "decode", "mint"]
