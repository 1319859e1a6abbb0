"""environments/shared-services and environments/application are the same root module.

They differ only in the account they name (short name, example account id, Environment tag,
session name). This test keeps them from drifting apart, which is what lets the validation runs
of their terraform tests live in one of the two.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT / "environments" / "shared-services"
APPLICATION = ROOT / "environments" / "application"
TF_FILES = sorted(p.name for p in SHARED.glob("*.tf"))


def _normalise(text: str, names: tuple[str, ...], account: str, short: str) -> str:
    for name in names:
        text = text.replace(name, "<ENV>")
    text = text.replace(account, "<ACCOUNT>")
    return re.sub(rf'(?<="){short}(?=[-"\\])', "<SHORT>", text)


def test_both_have_the_same_files() -> None:
    assert sorted(p.name for p in APPLICATION.glob("*.tf")) == TF_FILES
    assert "variables.tf" in TF_FILES


@pytest.mark.parametrize("name", TF_FILES)
def test_tf_files_differ_only_in_the_account_they_name(name: str) -> None:
    shared = _normalise(
        (SHARED / name).read_text(), ("shared-services", "shared services"), "111111111111", "ss"
    )
    application = _normalise(
        (APPLICATION / name).read_text(), ("application",), "222222222222", "tc"
    )
    assert shared == application


def test_the_defaults_name_different_accounts() -> None:
    assert 'default     = "ss"' in (SHARED / "variables.tf").read_text()
    assert 'default     = "tc"' in (APPLICATION / "variables.tf").read_text()
