"""fleetpatch's embedded AWS emulator: moto 5.2 plus the SSM calls it lacks.

* :mod:`tests.emulator.ssm` — the emulated SSM operations (associations, resource data syncs,
  patch baseline reads and updates, patch groups, hybrid activations), ``install()`` adds them.
* :mod:`tests.emulator.config` — AWS Config remediation configurations.
* :mod:`tests.emulator.athena` — Athena named-query reads and deletes.
* :mod:`tests.emulator.awslambda` — Lambda dead-letter and logging configuration.
* :mod:`tests.emulator.launcher` — :class:`~tests.emulator.launcher.Emulator` starts the server in
  a child process on a free port and stops it; multi-account through ``sts:AssumeRole``.
* :mod:`tests.emulator.shapes` — request/response checks against botocore's service model.
* :mod:`tests.emulator.schedule` — State Manager schedule expressions.

``python -m tests.emulator --port N`` serves it in the foreground.
"""

from __future__ import annotations


def install() -> None:
    """Add every emulated operation to moto; idempotent, call before serving requests."""
    # Imported here: `import tests.emulator` stays cheap and free of moto.
    from . import athena, awslambda, config, ssm  # noqa: PLC0415

    ssm.install()
    config.install()
    athena.install()
    awslambda.install()
    from . import datasync  # noqa: PLC0415 - SYNC: Resource Data Sync + Config managed rules

    datasync.install()
    __import__("tests.emulator.agent", fromlist=["install"]).install()  # AGENT: nodes, SendCommand
    __import__("tests.emulator.events", fromlist=["install"]).install()  # EVENTS: EventBridge, Lambda
    __import__("tests.emulator.automation", fromlist=["install"]).install()  # AUTOMATION: runbooks
    __import__("tests.emulator.patching", fromlist=["install"]).install()  # PATCH: patching
    __import__("tests.emulator.auth", fromlist=["install"]).install()  # IAM: request hook, denials
