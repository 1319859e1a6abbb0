"""Write the project's Terraform CLI configuration.

The Makefile points ``TF_CLI_CONFIG_FILE`` at the file this writes, so Terraform never reads the
user's own ``~/.terraformrc``. When a filesystem mirror holding ``hashicorp/aws`` exists (the
``--mirror`` argument, found by the Makefile from ``$TF_PLUGIN_MIRROR`` or the usual places), the
aws provider is installed from it and never from the network; otherwise the public registry is
used, with a shared plugin cache so each module does not download the provider again.

Usage: ``python3 tools/tf_cli_config.py OUT [--mirror DIR] [--cache DIR]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

AWS_PROVIDER = "registry.terraform.io/hashicorp/aws"


def render(mirror: Path | None, cache: Path) -> str:
    """Return the CLI configuration text.

    Args:
        mirror: a directory in Terraform's unpacked or packed mirror layout holding
            ``registry.terraform.io/hashicorp/aws``, or None to use the registry.
        cache: the plugin cache directory used when installing from the registry.

    Raises:
        ValueError: ``mirror`` is given but does not hold the aws provider.
    """
    if mirror is None:
        return (
            "# fleetpatch Terraform CLI config: public registry (no local provider mirror found).\n"
            f'plugin_cache_dir = "{cache}"\n'
        )
    if not (mirror / AWS_PROVIDER).is_dir():
        raise ValueError(f"{mirror} is not a provider mirror: {mirror / AWS_PROVIDER} is missing")
    return (
        "# fleetpatch Terraform CLI config: aws provider from the local filesystem mirror.\n"
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f'    path    = "{mirror}"\n'
        f'    include = ["{AWS_PROVIDER}"]\n'
        "  }\n"
        "  direct {\n"
        f'    exclude = ["{AWS_PROVIDER}"]\n'
        "  }\n"
        "}\n"
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--mirror", type=Path, default=None)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".terraform.d" / "plugin-cache")
    args = parser.parse_args(argv)
    mirror = args.mirror if args.mirror and str(args.mirror).strip() else None
    try:
        text = render(mirror, args.cache.resolve())
    except ValueError as exc:
        print(f"tf_cli_config: {exc}", file=sys.stderr)
        return 2
    if mirror is None:
        args.cache.mkdir(parents=True, exist_ok=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if not args.out.exists() or args.out.read_text() != text:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
