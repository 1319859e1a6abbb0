"""Run the embedded AWS emulator in the foreground: ``python -m tests.emulator --port 5000``.

Loads fleetpatch's SSM extensions into moto, then serves moto's server on ``--host``/``--port``
until SIGTERM or Ctrl-C. :class:`tests.emulator.launcher.Emulator` starts it this way.
"""

from __future__ import annotations

import argparse
import sys

from moto import server

from . import install


def main(argv: list[str] | None = None) -> None:
    """Parse ``--host``/``--port``, install the extensions and serve (blocks until stopped)."""
    parser = argparse.ArgumentParser(prog="python -m tests.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, required=True, help="TCP port to listen on")
    args = parser.parse_args(argv)
    install()
    server.main(["--host", args.host, "--port", str(args.port)])


if __name__ == "__main__":
    main(sys.argv[1:])
