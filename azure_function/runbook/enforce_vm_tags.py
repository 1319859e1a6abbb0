"""Azure Automation runbook (Python 3.10): enforce required VM tags and export all VM tags.

The Automation account's system-assigned managed identity signs in (``ManagedIdentityCredential``;
``FLEETPATCH_MANAGED_IDENTITY_CLIENT_ID`` picks a user-assigned one). Settings are the same as the
Function app's (see ``fleetpatch_tags.config``), read from the Automation variable
``FLEETPATCH_TAGS_SETTINGS`` (a JSON object of setting name -> string) when the runbook runs in
Automation, or from the environment when run elsewhere. ``--dry-run`` forces a dry run.

Its one scheduler is the daily Automation schedule, so every run is the run of its UTC day: a day
already exported is skipped (a re-run the same day does nothing; see ``fleetpatch_tags.service``).
``--force`` runs anyway (its export is then the run's own, not the day's).

The ``fleetpatch_tags`` package and the Azure SDK packages are imported into the Automation
account as Python 3.10 packages (see modules/azure_tag_enforcement).

Exit status: 0 all went well, 1 the run finished with failures, 2 invalid settings.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Mapping
from datetime import date, datetime, timezone
from typing import Any

from azure.core.credentials import TokenCredential
from fleetpatch_tags.config import ConfigError, load_settings
from fleetpatch_tags.service import RunFailed, run

SETTINGS_VARIABLE = "FLEETPATCH_TAGS_SETTINGS"
ARGUMENTS = ("--dry-run", "--force")


def automation_settings(getter: Callable[[str], Any] | None = None) -> dict[str, str] | None:
    """Settings from the Automation variable ``FLEETPATCH_TAGS_SETTINGS``, or ``None``.

    ``None`` when the runbook does not run in Azure Automation (no ``automationassets`` module).

    Raises:
        ConfigError: the variable is not a JSON object of strings.
    """
    if getter is None:
        try:
            import automationassets  # type: ignore[import-not-found]  # noqa: PLC0415
        except ImportError:
            return None
        getter = automationassets.get_automation_variable
    raw = getter(SETTINGS_VARIABLE)
    try:
        data = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise ConfigError(f"Automation variable {SETTINGS_VARIABLE} is not JSON") from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ConfigError(
            f"Automation variable {SETTINGS_VARIABLE} must be a JSON object of name -> string"
        )
    return {str(k): v for k, v in data.items()}


def managed_identity(env: Mapping[str, str]) -> TokenCredential:
    """The Automation account's managed identity (no request is sent until a token is needed)."""
    from azure.identity import ManagedIdentityCredential  # noqa: PLC0415

    client_id = env.get("FLEETPATCH_MANAGED_IDENTITY_CLIENT_ID") or None
    return ManagedIdentityCredential(client_id=client_id)


def main(
    argv: list[str] | None = None,
    env: Mapping[str, str] | None = None,
    credential: TokenCredential | None = None,
    today: Callable[[], date] = lambda: datetime.now(timezone.utc).date(),  # noqa: UP017
) -> int:
    """Run today's run once and return the exit status.

    0 ok (or the day already ran), 1 the run finished with failures, 2 invalid settings/arguments.

    Args:
        argv: command-line arguments (``--dry-run``, ``--force``); default ``sys.argv[1:]``.
        env: settings; default the Automation variable, else ``os.environ``.
        credential: token credential; default the managed identity.
        today: the UTC date of this run (its day).
    """
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    args = sys.argv[1:] if argv is None else argv
    unknown = [a for a in args if a not in ARGUMENTS]
    if unknown:
        print(f"unknown argument(s): {unknown}; only {' '.join(ARGUMENTS)}", file=sys.stderr)
        return 2
    try:
        settings_env = env if env is not None else automation_settings() or dict(os.environ)
        settings = load_settings(settings_env)
    except ConfigError as exc:
        print(f"invalid settings: {exc}", file=sys.stderr)
        return 2
    if "--dry-run" in args:
        settings = settings.with_dry_run()
    try:
        summary = run(
            settings,
            credential or managed_identity(settings_env),
            day=today(),
            force="--force" in args,
        )
    except RunFailed as exc:
        print(json.dumps(exc.summary, sort_keys=True))
        print(str(exc), file=sys.stderr)
        return 1
    print(json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
