"""fleetpatch's embedded AWS emulator: moto 5.2, the calls it lacks, and the execution engines.

The engines (IAM evaluation, Automation, the SSM agent and Run Command, Patch Manager,
EventBridge/Lambda/SNS, Resource Data Sync, Config rules) are listed in tests/emulator/README.md.

* :mod:`tests.emulator.ssm` — the emulated SSM operations (associations, resource data syncs,
  patch baseline reads and updates, patch groups, hybrid activations), ``install()`` adds them.
* :mod:`tests.emulator.config` — AWS Config remediation configurations.
* :mod:`tests.emulator.athena` — Athena named-query reads and deletes.
* :mod:`tests.emulator.awslambda` — Lambda dead-letter and logging configuration.
* :mod:`tests.emulator.ec2` — DescribeInstances paging by instances (as AWS), fast tag reads.
* :mod:`tests.emulator.launcher` — :class:`~tests.emulator.launcher.Emulator` starts the server in
  a child process on a free port and stops it; multi-account through ``sts:AssumeRole``.
* :mod:`tests.emulator.shapes` — request/response checks against botocore's service model.
* :mod:`tests.emulator.schedule` — association and EventBridge rule schedule expressions.

``python -m tests.emulator --port N`` serves it in the foreground.
"""

from __future__ import annotations


def install() -> None:
    """Add every emulated operation to moto; idempotent, call before serving requests."""
    # Imported here: `import tests.emulator` stays cheap and free of moto.
    from . import (  # noqa: PLC0415
        agent,
        athena,
        auth,
        automation,
        awslambda,
        config,
        datasync,
        ec2,
        events,
        patching,
        resource_groups,
        ssm,
    )

    ec2.install()  # DescribeInstances paging as AWS pages, fast EC2 tag reads
    ssm.install()
    config.install()
    resource_groups.install()  # ListGroupResources (tag-based groups)
    athena.install()
    awslambda.install()
    datasync.install()  # Resource Data Sync + the Config managed rules
    agent.install()  # managed nodes, SendCommand
    events.install()  # EventBridge dispatch, Lambda invocation, SNS delivery
    automation.install()  # Automation executions
    patching.install()  # Patch Manager, compliance, inventory
    auth.install()  # IAM: the request hook, denials
