"""Run the embedded AWS emulator in the foreground: ``python -m tests.emulator --port 5000``.

Loads fleetpatch's extensions into moto, then serves moto's server on ``--host``/``--port``, with
the emulator's control plane (``/fleetpatch/...``, :mod:`tests.emulator.control`) in front of it,
until SIGTERM or Ctrl-C. :class:`tests.emulator.launcher.Emulator` starts it this way.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

from . import install
from .control import wrap


def main(argv: list[str] | None = None) -> None:
    """Parse ``--host``/``--port``, install the extensions and serve (blocks until stopped)."""
    parser = argparse.ArgumentParser(prog="python -m tests.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, required=True, help="TCP port to listen on")
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))
    os.environ["FLEETPATCH_EMULATOR_ENDPOINT"] = f"http://{args.host}:{args.port}"
    install()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        args.host,
        args.port,
        wrap(app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
