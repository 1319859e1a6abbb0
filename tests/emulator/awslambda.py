"""Lambda function settings moto 5.2 drops, which the role-check function (modules/role_check) sets.

moto's ``LambdaFunction`` ignores ``DeadLetterConfig`` and ``LoggingConfig``: GetFunction answers
without them, so Terraform plans to add them again after every apply. This extension keeps both
on moto's function object and returns them the way AWS does (``LoggingConfig`` always present,
defaulting to ``Text`` format and the ``/aws/lambda/<name>`` log group).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.awslambda.models import LambdaFunction

_MARK = "_fleetpatch_lambda_installed"


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
    """Make moto's Lambda functions keep DeadLetterConfig and LoggingConfig (idempotent)."""
    if getattr(LambdaFunction, _MARK, False):
        return
    LambdaFunction.__init__ = _wrap_init(LambdaFunction.__init__)  # type: ignore[method-assign]
    LambdaFunction.get_configuration = _wrap_get_configuration(  # type: ignore[method-assign]
        LambdaFunction.get_configuration
    )
    LambdaFunction.update_configuration = _wrap_update_configuration(  # type: ignore[method-assign]
        LambdaFunction.update_configuration
    )
    setattr(LambdaFunction, _MARK, True)
