"""The emulator's patch catalogue and Patch Manager's patch selection (pure functions, no state).

A small catalogue per operating-system family stands in for the repositories (Linux: the
``updateinfo.xml`` advisories of the distribution; Windows: WSUS/Windows Update) and
:func:`approved_patches` decides, from a patch baseline, which of them are approved, with the
compliance level each gets. The rules are Patch Manager's, as these pages state them:

* Patch baseline rules, filters, ApproveAfterDays / ApproveUntilDate, ComplianceLevel,
  EnableNonSecurity — https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PatchRule.html
  and https://docs.aws.amazon.com/systems-manager/latest/userguide/patch-manager-selecting-patches.html
  ("How security patches are selected"); release dates are evaluated in UTC (API_PatchRule).
* Approved / rejected lists, ALLOW_AS_DEPENDENCY / BLOCK and the states they give —
  https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CreatePatchBaseline.html and
  https://docs.aws.amazon.com/systems-manager/latest/userguide/patch-manager-approved-rejected-package-name-formats.html
  ("the rejected list overrides both the rules and the approve list",
  https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-patch-baselines.html).
* Predefined baselines (used when no baseline is registered for the patch group) —
  https://docs.aws.amazon.com/systems-manager/latest/userguide/patch-manager-predefined-and-custom-patch-baselines.html:
  AWS-AmazonLinux2023DefaultPatchBaseline approves "Security" patches of severity "Critical" or
  "Important" and every "Bugfix" patch 7 days after release; AWS-DefaultPatchBaseline (Windows)
  approves "CriticalUpdates" or "SecurityUpdates" of MSRC severity "Critical" or "Important"
  7 days after release; predefined baselines give every patch compliance level UNSPECIFIED.
* Windows ``PATCH_SET``: OS (the default) or APPLICATION (Microsoft applications) —
  https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PatchFilter.html.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]

# Compliance levels, most severe first (PatchComplianceLevel).
LEVELS = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNSPECIFIED")
WINDOWS = "WINDOWS"


@dataclass(frozen=True)
class Patch:
    """One catalogue entry.

    Attributes:
        kb_id: the operating-system specific id (``KB5034441``; Linux ``name.arch``), the
            ``KBId`` of DescribeInstancePatches and the ``Id`` of the Patch compliance item.
        title: the patch title (Linux: ``name.arch:epoch:version-release``).
        classification: ``SecurityUpdates`` / ``Security`` / ``Bugfix`` / ...; empty for a
            Linux package update that no advisory covers (a "non-security" update).
        severity: MSRC severity (Windows) or advisory severity (Linux); empty without one.
        product: the product the patch applies to (``AmazonLinux2023``, ``WindowsServer2022``).
        age_days: days between the release date and now (release dates move with the clock,
            so approve-after-days stays meaningful in a long-running emulator).
        patch_set: Windows ``OS`` or ``APPLICATION``; empty on Linux.
        cves: CVE ids the patch resolves.
        product_family: ``AmazonLinux`` / ``Windows`` / ``Office``.
    """

    kb_id: str
    title: str
    classification: str
    severity: str
    product: str
    age_days: int
    patch_set: str = ""
    cves: tuple[str, ...] = ()
    product_family: str = ""

    def release_date(self, now: dt.datetime) -> dt.datetime:
        """The release date (UTC) relative to ``now``."""
        return now - dt.timedelta(days=self.age_days)

    @property
    def name(self) -> str:
        """The package name without architecture (Linux) or the KB id (Windows)."""
        return self.kb_id.rsplit(".", 1)[0] if "." in self.kb_id else self.kb_id

    @property
    def security(self) -> bool:
        """Whether an advisory covers the update (Linux "security" update in Patch Manager's
        sense: listed in updateinfo.xml); always True on Windows."""
        return bool(self.classification)


def _linux(product: str, arch: str = "x86_64") -> tuple[Patch, ...]:
    suffix = {"AmazonLinux2023": "amzn2023", "AmazonLinux2": "amzn2"}.get(product, "el9")
    rows = (
        ("kernel", "6.1.82-99.168", "Security", "Important", 40, ("CVE-2024-1086",)),
        ("openssl-libs", "3.0.8-1.amzn2023.0.12", "Security", "Critical", 30, ("CVE-2024-0727",)),
        ("glibc", "2.34-52", "Security", "Important", 20, ("CVE-2023-6246",)),
        ("curl", "8.5.0-1", "Security", "Medium", 25, ("CVE-2023-46218",)),
        ("sudo", "1.9.15-1", "Security", "Low", 50, ("CVE-2023-42465",)),
        ("openssh-server", "8.7p1-8", "Security", "Critical", 3, ("CVE-2024-6387",)),
        ("python3", "3.9.16-1", "Bugfix", "", 15, ()),
        ("systemd", "252.16-1", "Bugfix", "", 2, ()),
        ("amazon-ssm-agent", "3.3.40.0-1", "Enhancement", "", 12, ()),
        ("vim-minimal", "9.0.2153-1", "", "", 10, ()),
    )
    return tuple(
        Patch(
            kb_id=f"{name}.{arch}",
            title=f"{name}.{arch}:0:{version}.{suffix}",
            classification=classification,
            severity=severity,
            product=product,
            age_days=age,
            cves=cves,
            product_family="AmazonLinux" if product.startswith("AmazonLinux") else "RedHat",
        )
        for name, version, classification, severity, age, cves in rows
    )


_WINDOWS_ROWS = (
    # kb, title, classification, MSRC severity, product, age, patch set, family
    (
        "KB5034439",
        "2024-01 Security Update for Microsoft server operating system version 21H2 for "
        "x64-based Systems (KB5034439)",
        "SecurityUpdates",
        "Important",
        "WindowsServer2022",
        45,
        "OS",
        "Windows",
    ),
    (
        "KB5035857",
        "2024-03 Cumulative Update for Microsoft server operating system version 21H2 for "
        "x64-based Systems (KB5035857)",
        "SecurityUpdates",
        "Critical",
        "WindowsServer2022",
        30,
        "OS",
        "Windows",
    ),
    (
        "KB5036909",
        "2024-04 Cumulative Update for Microsoft server operating system version 21H2 for "
        "x64-based Systems (KB5036909)",
        "SecurityUpdates",
        "Critical",
        "WindowsServer2022",
        4,
        "OS",
        "Windows",
    ),
    (
        "KB5034862",
        "2024-02 Update for Microsoft server operating system version 21H2 (KB5034862)",
        "CriticalUpdates",
        "Important",
        "WindowsServer2022",
        35,
        "OS",
        "Windows",
    ),
    (
        "KB890830",
        "Windows Malicious Software Removal Tool x64 - v5.122 (KB890830)",
        "UpdateRollups",
        "Unspecified",
        "WindowsServer2022",
        20,
        "OS",
        "Windows",
    ),
    (
        "KB5032198",
        "2023-11 Security Update for Windows Server 2022 (KB5032198)",
        "SecurityUpdates",
        "Moderate",
        "WindowsServer2022",
        90,
        "OS",
        "Windows",
    ),
    (
        "KB4052623",
        "Update for Microsoft Defender Antivirus antimalware platform (KB4052623)",
        "DefinitionUpdates",
        "Unspecified",
        "WindowsServer2022",
        8,
        "OS",
        "Windows",
    ),
    (
        "KB5035849",
        "2024-03 Cumulative Update for Windows Server 2019 for x64-based Systems (KB5035849)",
        "SecurityUpdates",
        "Critical",
        "WindowsServer2019",
        30,
        "OS",
        "Windows",
    ),
    (
        "KB5002537",
        "Security Update for Microsoft Office 2016 (KB5002537) 64-Bit Edition",
        "SecurityUpdates",
        "Important",
        "Office 2016",
        25,
        "APPLICATION",
        "Office",
    ),
)

CATALOGUE: dict[str, tuple[Patch, ...]] = {
    "AMAZON_LINUX_2023": _linux("AmazonLinux2023"),
    "AMAZON_LINUX_2": _linux("AmazonLinux2"),
    "REDHAT_ENTERPRISE_LINUX": _linux("RedhatEnterpriseLinux9"),
    WINDOWS: tuple(
        Patch(kb, title, cls, sev, product, age, patch_set, (), family)
        for kb, title, cls, sev, product, age, patch_set, family in _WINDOWS_ROWS
    ),
}
# Products a node of each operating system has installed (a patch of another product is
# NotApplicable on it).
NODE_PRODUCTS: dict[str, frozenset[str]] = {
    "AMAZON_LINUX_2023": frozenset({"AmazonLinux2023"}),
    "AMAZON_LINUX_2": frozenset({"AmazonLinux2"}),
    "REDHAT_ENTERPRISE_LINUX": frozenset({"RedhatEnterpriseLinux9"}),
    WINDOWS: frozenset({"WindowsServer2022", "Office 2016"}),
}


def operating_system(node: Json) -> str:
    """The patch baseline ``OperatingSystem`` of a node (DescribeInstanceInformation item).

    Windows nodes → ``WINDOWS``; Linux by ``PlatformName``/``PlatformVersion`` (Amazon Linux
    2023 and 2, Red Hat); any other Linux is treated as Amazon Linux 2023.
    """
    platform = str(node.get("PlatformType") or "Linux")
    if platform == "Windows":
        return WINDOWS
    name = str(node.get("PlatformName") or "").lower()
    version = str(node.get("PlatformVersion") or "")
    if "red hat" in name or "rhel" in name:
        return "REDHAT_ENTERPRISE_LINUX"
    if "amazon linux" in name and version.startswith("2") and not version.startswith("2023"):
        return "AMAZON_LINUX_2"
    return "AMAZON_LINUX_2023"


def catalogue(system: str) -> tuple[Patch, ...]:
    """Every patch the repositories offer for operating system ``system``."""
    return CATALOGUE.get(system, CATALOGUE["AMAZON_LINUX_2023"])


def applicable(system: str, patch: Patch) -> bool:
    """Whether ``patch`` applies to a node of ``system`` (its product is installed there)."""
    return patch.product in NODE_PRODUCTS.get(system, frozenset())


def seeded_missing(node_id: str, system: str) -> set[str]:
    """The deterministic default set of missing patch ids of a node (seeded by its id).

    About half of the applicable patches are missing; one "Security" patch older than 14 days
    is always missing, so a fresh fleet is NON_COMPLIANT under the seed's baselines.
    """
    patches = [p for p in catalogue(system) if applicable(system, p)]
    missing = {
        p.kb_id for p in patches if hashlib.sha256(f"{node_id}/{p.kb_id}".encode()).digest()[0] & 1
    }
    old_security = [
        p
        for p in patches
        if p.classification in {"Security", "SecurityUpdates"}
        and p.severity in {"Critical", "Important"}
        and p.age_days > 14
    ]
    if old_security:
        pick = hashlib.sha256(node_id.encode()).digest()[0] % len(old_security)
        missing.add(old_security[pick].kb_id)
    return missing


# --- baselines ------------------------------------------------------------------------------
def _rule(classifications: list[str], severities: list[str], severity_key: str) -> Json:
    return {
        "PatchFilterGroup": {
            "PatchFilters": [
                {"Key": "PRODUCT", "Values": ["*"]},
                {"Key": "CLASSIFICATION", "Values": classifications},
                {"Key": severity_key, "Values": severities},
            ]
        },
        "ApproveAfterDays": 7,
        "ComplianceLevel": "UNSPECIFIED",
        "EnableNonSecurity": False,
    }


def predefined_baseline(system: str, baseline_id: str) -> Json:
    """The predefined baseline of ``system`` (GetPatchBaseline shape, the rules AWS documents).

    Args:
        system: ``OperatingSystem`` (``AMAZON_LINUX_2023``, ``WINDOWS``, ...).
        baseline_id: its id (the ARN of AWS's predefined baseline in the Region).
    """
    if system == WINDOWS:
        rules = [
            _rule(
                ["CriticalUpdates", "SecurityUpdates"], ["Critical", "Important"], "MSRC_SEVERITY"
            )
        ]
        name = "AWS-DefaultPatchBaseline"
    else:
        rules = [
            _rule(["Security"], ["Critical", "Important"], "SEVERITY"),
            {
                "PatchFilterGroup": {
                    "PatchFilters": [
                        {"Key": "PRODUCT", "Values": ["*"]},
                        {"Key": "CLASSIFICATION", "Values": ["Bugfix"]},
                    ]
                },
                "ApproveAfterDays": 7,
                "ComplianceLevel": "UNSPECIFIED",
                "EnableNonSecurity": False,
            },
        ]
        name = {
            "AMAZON_LINUX_2023": "AWS-AmazonLinux2023DefaultPatchBaseline",
            "AMAZON_LINUX_2": "AWS-AmazonLinux2DefaultPatchBaseline",
            "REDHAT_ENTERPRISE_LINUX": "AWS-RedHatDefaultPatchBaseline",
        }.get(system, f"AWS-{system}DefaultPatchBaseline")
    return {
        "BaselineId": baseline_id,
        "Name": name,
        "OperatingSystem": system,
        "GlobalFilters": {"PatchFilters": []},
        "ApprovalRules": {"PatchRules": rules},
        "ApprovedPatches": [],
        "ApprovedPatchesComplianceLevel": "UNSPECIFIED",
        "ApprovedPatchesEnableNonSecurity": False,
        "RejectedPatches": [],
        "RejectedPatchesAction": "ALLOW_AS_DEPENDENCY",
    }


def _attribute(patch: Patch, key: str) -> str | None:
    return {
        "PRODUCT": patch.product,
        "PRODUCT_FAMILY": patch.product_family,
        "CLASSIFICATION": patch.classification,
        "SEVERITY": patch.severity,
        "MSRC_SEVERITY": patch.severity,
        "PATCH_SET": patch.patch_set,
        "PATCH_ID": patch.kb_id,
    }.get(key)


def _filters_match(patch: Patch, filters: list[Json], system: str) -> bool:
    keys = {f.get("Key") for f in filters}
    if system == WINDOWS and "PATCH_SET" not in keys and patch.patch_set != "OS":
        return False  # PATCH_SET defaults to OS: applications only with PATCH_SET APPLICATION
    for flt in filters:
        value = _attribute(patch, str(flt.get("Key")))
        if value is None:
            return False  # a filter key the catalogue has no attribute for matches nothing
        if not any(fnmatch.fnmatchcase(value, pattern) for pattern in flt.get("Values") or []):
            return False
    return True


def name_matches(patch: Patch, patterns: list[str]) -> bool:
    """Whether ``patch`` is named by an entry of an approved/rejected list.

    Windows: the KB id (``KB5034439``); Linux: the package name, ``name.arch``, the full
    ``name.arch:epoch:version-release`` or a CVE id, with ``*`` wildcards (the package name
    formats of the page cited in the module docstring).
    """
    names = {patch.kb_id, patch.name, patch.title, *patch.cves}
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns for name in names)


@dataclass
class Approval:
    """The result of evaluating a baseline against the catalogue of one operating system.

    Attributes:
        approved: approved patch id → compliance level (``CRITICAL`` ... ``UNSPECIFIED``).
        rejected: ids the baseline's RejectedPatches names.
        action: ``ALLOW_AS_DEPENDENCY`` or ``BLOCK``.
    """

    approved: dict[str, str] = field(default_factory=dict)
    rejected: set[str] = field(default_factory=set)
    action: str = "ALLOW_AS_DEPENDENCY"


def _more_severe(first: str, second: str) -> str:
    return min(first, second, key=lambda level: LEVELS.index(level) if level in LEVELS else 99)


def _day(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=dt.UTC) + dt.timedelta(days=1)


def approved_patches(baseline: Json, system: str, now: dt.datetime | None = None) -> Approval:
    """Which catalogue patches of ``system`` ``baseline`` approves, now.

    A patch is approved when it passes every GlobalFilter and (a) an approval rule matches it
    (every filter of the rule; Linux updates without an advisory only when the rule has
    EnableNonSecurity) and its release date is ApproveAfterDays or more days ago, or on or
    before ApproveUntilDate; or (b) ApprovedPatches names it (Linux non-advisory updates only
    with ApprovedPatchesEnableNonSecurity). RejectedPatches removes a patch whatever approved
    it. A patch approved by several rules gets the most severe of their compliance levels.

    Args:
        baseline: the baseline in GetPatchBaseline's shape (also a BaselineOverride object).
        system: the node's ``OperatingSystem``.
        now: the evaluation time (UTC); default the current time.
    """
    now = now or dt.datetime.now(dt.UTC)
    result = Approval(action=str(baseline.get("RejectedPatchesAction") or "ALLOW_AS_DEPENDENCY"))
    global_filters = (baseline.get("GlobalFilters") or {}).get("PatchFilters") or []
    rules = (baseline.get("ApprovalRules") or {}).get("PatchRules") or []
    approved_list = list(baseline.get("ApprovedPatches") or [])
    rejected_list = list(baseline.get("RejectedPatches") or [])
    for patch in catalogue(system):
        if rejected_list and name_matches(patch, rejected_list):
            result.rejected.add(patch.kb_id)
            continue
        if global_filters and not _filters_match(patch, global_filters, system):
            continue
        level: str | None = None
        for rule in rules:
            filters = (rule.get("PatchFilterGroup") or {}).get("PatchFilters") or []
            non_security_ok = (
                system == WINDOWS or patch.security or bool(rule.get("EnableNonSecurity"))
            )
            if not non_security_ok or not _filters_match(patch, filters, system):
                continue
            released = patch.release_date(now)
            if rule.get("ApproveUntilDate"):
                if released >= _day(str(rule["ApproveUntilDate"])):
                    continue
            elif released > now - dt.timedelta(days=int(rule.get("ApproveAfterDays") or 0)):
                continue
            rule_level = str(rule.get("ComplianceLevel") or "UNSPECIFIED")
            level = rule_level if level is None else _more_severe(level, rule_level)
        if (
            approved_list
            and name_matches(patch, approved_list)
            and (
                system == WINDOWS
                or patch.security
                or baseline.get("ApprovedPatchesEnableNonSecurity")
            )
        ):
            listed = str(baseline.get("ApprovedPatchesComplianceLevel") or "UNSPECIFIED")
            level = listed if level is None else _more_severe(level, listed)
        if level is not None:
            result.approved[patch.kb_id] = level
    return result


def by_id(system: str) -> dict[str, Patch]:
    """The catalogue of ``system`` keyed by patch id."""
    return {patch.kb_id: patch for patch in catalogue(system)}
