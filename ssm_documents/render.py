"""The deploy-time values of the patch-run document, as modules/patch_automation renders them.

``ssm_documents/generated/patch_run.yaml`` carries three markers that the module replaces in
Terraform (``local.document_content`` in modules/patch_automation/main.tf): the
``allowedPattern`` of ``BaselineOverride`` / ``InstallOverrideList`` (only ``s3://`` URLs under
the approved ``override_s3_prefixes``), the list of those prefixes that the ValidateInputs step
checks again, and the output bucket of PatchNodes (``output_s3_bucket_name``; not a parameter).
:func:`render_patch_run` is the same rendering in Python, for the tests and tools that register
the generated document on the emulator; a unit test keeps the two in step.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

OVERRIDE_PATTERN_MARKER = "^$ # @@override_url_pattern@@"
OVERRIDE_PREFIXES_MARKER = "[] # @@override_s3_prefixes@@"
OUTPUT_BUCKET_MARKER = "@@output_s3_bucket_name@@"


def override_url_pattern(prefixes: Sequence[str]) -> str:
    """The ``allowedPattern`` of both override parameters for approved ``bucket/prefix/`` entries.

    Empty, or an ``s3://`` URL whose bucket and key start with one of ``prefixes`` followed by at
    least one more non-space character. No prefix: only the empty value (overrides refused).
    The prefixes hold only letters, digits, ``_.-`` and ``/`` (module validation), so escaping
    the dots makes each a literal (RE2 and Java regular expressions alike).
    """
    if not prefixes:
        return "^$"
    alternation = "|".join(p.replace(".", "\\.") for p in prefixes)
    return f"^(s3://({alternation})\\S+)?$"


def render_patch_run(
    content: str, output_bucket: str, override_prefixes: Sequence[str] = ()
) -> str:
    """``content`` (the generated document) with the module's three values filled in."""
    rendered = content.replace(
        OVERRIDE_PATTERN_MARKER, json.dumps(override_url_pattern(override_prefixes))
    )
    rendered = rendered.replace(OVERRIDE_PREFIXES_MARKER, json.dumps(list(override_prefixes)))
    return rendered.replace(OUTPUT_BUCKET_MARKER, output_bucket)
