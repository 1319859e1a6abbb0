"""What moto 5.2's Lambda lacks for the role-check function (modules/role_check).

* moto's ``LambdaFunction`` ignores ``DeadLetterConfig`` and ``LoggingConfig``: GetFunction
  answers without them, so Terraform plans to add them again after every apply. They are kept on
  moto's function object and returned the way AWS does (``LoggingConfig`` always present,
  defaulting to ``Text`` format and the ``/aws/lambda/<name>`` log group).
* AWS-published public layers (Powertools for AWS Lambda, account 017000801446) exist in every
  Region of AWS but in no emulated account: a function referencing one failed with
  ``ResourceNotFoundException``. Layer versions of those publishers now resolve.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.awslambda.models import LambdaBackend, LambdaFunction

_MARK = "_fleetpatch_lambda_installed"
# Accounts that publish public Lambda layers AWS customers reference by ARN.
PUBLIC_LAYER_PUBLISHERS = frozenset({"017000801446"})  # Powertools for AWS Lambda (Python)
PUBLIC_LAYER_CODE_SIZE = 2_000_000
DEFAULT_CONCURRENCY_QUOTA = 1000  # Lambda's default "Concurrent executions" quota per Region


@dataclass(frozen=True)
class PublicLayerVersion:
    """A version of an AWS-published layer: what a function's ``Layers`` entry reports."""

    arn: str
    code_size: int = PUBLIC_LAYER_CODE_SIZE


def public_layer(arn: str) -> PublicLayerVersion | None:
    """The AWS-published layer version ``arn`` names, or None for any other layer ARN.

    ``arn`` looks like ``arn:aws:lambda:<region>:<publisher>:layer:<name>:<version>``.
    """
    parts = arn.split(":")
    public = len(parts) == 8 and parts[5] == "layer" and parts[4] in PUBLIC_LAYER_PUBLISHERS
    return PublicLayerVersion(arn) if public and parts[7].isdigit() else None


def _wrap_layer_lookup(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def layers_versions_by_arn(self: Any, layer_version_arn: str) -> Any:
        return public_layer(layer_version_arn) or original(self, layer_version_arn)

    return layers_versions_by_arn


def _logging_config(function: Any, given: dict[str, Any] | None) -> dict[str, Any]:
    config = {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{function.function_name}"}
    config.update(given or {})
    return config


def _wrap_init(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def init(self: Any, account_id: str, spec: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        original(self, account_id, spec, *args, **kwargs)
        self.fleetpatch_dead_letter_config = spec.get("DeadLetterConfig")
        self.fleetpatch_logging_config = _logging_config(self, spec.get("LoggingConfig"))

    return init


def _wrap_get_configuration(original: Callable[..., dict[str, Any]]) -> Callable[..., Any]:
    @functools.wraps(original)
    def get_configuration(self: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        config = original(self, *args, **kwargs)
        dead_letter = getattr(self, "fleetpatch_dead_letter_config", None)
        if dead_letter and dead_letter.get("TargetArn"):
            config["DeadLetterConfig"] = dead_letter
        logging = getattr(self, "fleetpatch_logging_config", None)
        if logging:
            config["LoggingConfig"] = logging
        return config

    return get_configuration


def _wrap_update_configuration(original: Callable[..., dict[str, Any]]) -> Callable[..., Any]:
    @functools.wraps(original)
    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "DeadLetterConfig" in config_updates:
            self.fleetpatch_dead_letter_config = config_updates["DeadLetterConfig"]
        if "LoggingConfig" in config_updates:
            self.fleetpatch_logging_config = _logging_config(self, config_updates["LoggingConfig"])
        return original(self, config_updates)

    return update_configuration


def install() -> None:
    """Keep DeadLetterConfig/LoggingConfig and resolve public layers in moto (idempotent)."""
    if getattr(LambdaFunction, _MARK, False):
        return
    # PutFunctionConcurrency refuses a reservation that leaves fewer than 100 unreserved
    # executions ("You can reserve concurrency for as many functions as you like, as long as you
    # leave at least 100 simultaneous executions unreserved",
    # https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionConcurrency.html). moto checks
    # it only with MOTO_LAMBDA_CONCURRENCY_QUOTA set: the emulator sets Lambda's default Regional
    # quota, 1,000 concurrent executions
    # (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html), unless given.
    os.environ.setdefault("MOTO_LAMBDA_CONCURRENCY_QUOTA", str(DEFAULT_CONCURRENCY_QUOTA))
    LambdaFunction.__init__ = _wrap_init(LambdaFunction.__init__)  # type: ignore[method-assign]
    LambdaFunction.get_configuration = _wrap_get_configuration(  # type: ignore[method-assign]
        LambdaFunction.get_configuration
    )
    LambdaFunction.update_configuration = _wrap_update_configuration(  # type: ignore[method-assign]
        LambdaFunction.update_configuration
    )
    LambdaBackend.layers_versions_by_arn = _wrap_layer_lookup(  # type: ignore[method-assign]
        LambdaBackend.layers_versions_by_arn
    )
    setattr(LambdaFunction, _MARK, True)
