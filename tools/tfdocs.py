"""Generate or check the inputs/outputs tables of every module README.

terraform-docs is not installable offline, so this is the project's own: the tables between
``<!-- BEGIN_TF_DOCS -->`` and ``<!-- END_TF_DOCS -->`` in ``modules/*/README.md`` and
``environments/*/README.md`` are generated from ``variables.tf`` and ``outputs.tf``.

Usage: ``python tools/tfdocs.py [--check] [DIR ...]``. ``--check`` writes nothing and exits 1
naming every README whose tables differ from the code.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tools.hcl import blocks, load_dir, render_default
from tools.terraform_each import ROOT, terraform_dirs

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def render_tables(directory: Path) -> str:
    """Return the Markdown block (markers included) documenting ``directory``'s inputs/outputs.

    Raises:
        ValueError: a ``*.tf`` file does not parse.
    """
    parsed = load_dir(directory)
    lines = [BEGIN, "## Inputs", ""]
    variables = blocks(parsed, "variable")
    if variables:
        lines += ["| Name | Description | Type | Default | Required |", "|---|---|---|---|:---:|"]
        for name in sorted(variables):
            var = variables[name]
            required = "default" not in var
            default = "n/a" if required else f"`{render_default(var['default'])}`"
            vtype = _cell(var.get("type", "any"))
            lines.append(
                f"| `{name}` | {_cell(var.get('description', ''))} | `{vtype}` | {default} | "
                f"{'yes' if required else 'no'} |"
            )
    else:
        lines.append("No inputs.")
    lines += ["", "## Outputs", ""]
    outputs = blocks(parsed, "output")
    if outputs:
        lines += ["| Name | Description | Sensitive |", "|---|---|:---:|"]
        for name in sorted(outputs):
            out = outputs[name]
            sensitive = "yes" if out.get("sensitive") is True else "no"
            lines.append(f"| `{name}` | {_cell(out.get('description', ''))} | {sensitive} |")
    else:
        lines.append("No outputs.")
    lines.append(END)
    return "\n".join(lines)


def apply(readme: Path, tables: str) -> str:
    """Return ``readme``'s text with its docs block replaced by ``tables`` (appended if absent)."""
    text = readme.read_text() if readme.exists() else f"# {readme.parent.name}\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        return f"{head}{tables}{tail}"
    return f"{text.rstrip()}\n\n{tables}\n"


def _display(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    parser = argparse.ArgumentParser(description="Generate or check module README tables.")
    parser.add_argument("--check", action="store_true")
    parser.add_argument("dirs", nargs="*", type=Path)
    args = parser.parse_args(argv)
    dirs = [d.resolve() for d in args.dirs] if args.dirs else terraform_dirs()
    stale: list[str] = []
    for directory in dirs:
        readme = directory / "README.md"
        wanted = apply(readme, render_tables(directory))
        current = readme.read_text() if readme.exists() else ""
        if wanted != current:
            if args.check:
                stale.append(_display(readme))
            else:
                readme.write_text(wanted)
                print(f"updated {_display(readme)}")
    if stale:
        print("README inputs/outputs differ from the code (run `make docs`):", file=sys.stderr)
        for name in stale:
            print(f"  {name}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
