"""The GitHub workflows' security rules (issue 16), read from the YAML itself.

- a pull request's job that can get an OIDC token never names the apply (deploy) role;
- every deploy.yml job runs only for refs/heads/main;
- in every job, nothing is installed after the AWS credentials are loaded;
- no saved plan (``*.tfplan``) is uploaded as an artifact: only the sealed file;
- the apply job opens the sealed plan with the environment secret;
- CI writes no assume_role_arn (the job's OIDC role is the account's role) and refuses tfvars
  that set one.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
PULL_REQUEST = WORKFLOWS / "pull-request.yml"
DEPLOY = WORKFLOWS / "deploy.yml"

CREDENTIALS = "aws-actions/configure-aws-credentials"
INSTALL_USES = re.compile(r"^(actions/setup-|hashicorp/setup-|[^/]+/setup-)")
INSTALL_RUN = re.compile(
    r"\bmake\b[^\n|;&]*\s(setup|\S*\.stamp)\b|\bpip3?\s+install\b|\b-m\s+pip\b|\bnpm\b|\bnpx\b"
    r"|\bapt(-get)?\s+install\b|\bpip-sync\b|\bcurl\b|\bwget\b"
)
TFVARS_REFUSAL = re.compile(r"grep[^\n]*assume_role_\(arn\|external_id\)")
WRITES_ASSUME_ROLE = re.compile(r"assume_role_arn\s*=|-var[= ]+['\"]?assume_role_arn")


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


def jobs(path: Path) -> dict[str, dict[str, Any]]:
    return load(path)["jobs"]


def all_jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (wf.name, name, job)
        for wf in sorted(WORKFLOWS.glob("*.yml"))
        for name, job in jobs(wf).items()
    ]


def job_ids() -> list[str]:
    return [f"{wf}:{name}" for wf, name, _ in all_jobs()]


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def step_text(step: dict[str, Any]) -> str:
    return yaml.safe_dump(step, sort_keys=True)


def is_credentials(step: dict[str, Any]) -> bool:
    return str(step.get("uses", "")).startswith(CREDENTIALS)


def is_install(step: dict[str, Any]) -> bool:
    uses = str(step.get("uses", ""))
    if uses and INSTALL_USES.match(uses.split("@", maxsplit=1)[0]):
        return True
    # `make -q TARGET` only asks whether TARGET is up to date: it installs nothing.
    lines = str(step.get("run", "")).splitlines()
    return any(INSTALL_RUN.search(x) for x in lines if not re.search(r"\bmake\s+-q\b", x))


def label(step: dict[str, Any]) -> str:
    return str(step.get("name") or step.get("uses") or step.get("run", ""))[:80]


def test_the_rules_recognize_what_they_look_for() -> None:
    # The detectors themselves: an install, a credentials step, a tfvars write.
    assert is_install({"uses": "actions/setup-python@abc"})
    assert is_install({"uses": "hashicorp/setup-terraform@abc"})
    assert is_install({"run": "make setup"})
    assert is_install({"run": "make -j2 .venv/.stamp .venv-policy/.stamp tfconfig"})
    assert is_install({"run": "python -m pip install -r x"})
    assert is_install({"run": "npm ci"})
    assert not is_install({"run": 'make plan ENV="$ENV_NAME" NO_PACKAGE=1'})
    assert not is_install({"run": "make -q .venv/.stamp .venv-policy/.stamp || exit 1"})
    assert is_credentials({"uses": f"{CREDENTIALS}@abc"})
    assert implicit_install({"run": "make plan ENV=x"})
    assert implicit_install({"run": "make tfconfig package"})
    assert not implicit_install({"run": "make -q .venv/.stamp || exit 1\nmake plan ENV=x"})
    assert WRITES_ASSUME_ROLE.search('echo assume_role_arn = "arn" >> x.tfvars')
    assert WRITES_ASSUME_ROLE.search("terraform plan -var assume_role_arn=arn")


def test_rule_pull_request_oidc_jobs_never_name_the_apply_role() -> None:
    for name, job in jobs(PULL_REQUEST).items():
        if job.get("permissions", {}).get("id-token") != "write":
            continue
        text = yaml.safe_dump(job)
        assert "_APPLY_ROLE_ARN" not in text, (
            f"rule: pull-request.yml job {name!r} can get an OIDC token and must not reference "
            "an <PREFIX>_APPLY_ROLE_ARN (the deploy role): the branch's code runs there"
        )
        roles = [
            str(s.get("with", {}).get("role-to-assume", ""))
            for s in steps(job)
            if is_credentials(s)
        ]
        assert roles, f"{name}: an OIDC job without a credentials step"
        assert all("_PLAN_ROLE_ARN" in r for r in roles), (
            f"rule: pull-request.yml job {name!r} assumes only <PREFIX>_PLAN_ROLE_ARN, got {roles}"
        )


def test_rule_no_pull_request_job_runs_in_a_deploy_environment() -> None:
    deploy_environments = {str(j.get("environment", "")) for j in jobs(DEPLOY).values()} - {""}
    assert deploy_environments, "deploy.yml's apply job runs in an environment"
    for name, job in jobs(PULL_REQUEST).items():
        assert str(job.get("environment", "")) not in deploy_environments, (
            f"rule: pull-request.yml job {name!r} must not use deploy.yml's environment (its OIDC "
            "subject and secrets belong to the apply job)"
        )


def test_rule_pull_request_credentials_wait_for_a_reviewer() -> None:
    # The plan role reads the state, which holds secrets: a branch's code gets it only after a
    # reviewer approves the job in its plan-<env> environment (the role trusts that subject).
    for name, job in jobs(PULL_REQUEST).items():
        if job.get("permissions", {}).get("id-token") != "write":
            continue
        assert job.get("environment") == "plan-${{ matrix.env }}", (
            f"rule: pull-request.yml job {name!r} gets an OIDC token and must wait in the "
            "environment plan-<env> (Required reviewers) before the branch's code holds the plan "
            f"role; got environment {job.get('environment')!r}"
        )


@pytest.mark.parametrize("name", list(jobs(DEPLOY)))
def test_rule_every_deploy_job_requires_main(name: str) -> None:
    condition = str(jobs(DEPLOY)[name].get("if", ""))
    assert re.search(r"github\.ref\s*==\s*'refs/heads/main'", condition), (
        f"rule: deploy.yml job {name!r} must have an `if` requiring github.ref == "
        f"'refs/heads/main' (workflow_dispatch can start any branch), got {condition!r}"
    )
    assert "||" not in condition, f"rule: deploy.yml job {name!r}: no alternative to main"


MAKE = re.compile(r"^\s*make\b(?!\s+-q\b)")
VENV_GUARD = re.compile(r"^\s*make\s+-q\s+[^\n]*\.venv/\.stamp")


def implicit_install(step: dict[str, Any]) -> bool:
    """A `make` run after the credentials installs the venvs when they are missing or stale.

    (Most targets depend on .venv/.stamp.) It is allowed only after a `make -q .venv/.stamp ...`
    line in the same step has checked that nothing needs installing.
    """
    guarded = False
    for line in str(step.get("run", "")).splitlines():
        if VENV_GUARD.search(line):
            guarded = True
        elif MAKE.search(line) and not guarded:
            return True
    return False


@pytest.mark.parametrize(("workflow", "name", "job"), all_jobs(), ids=job_ids())
def test_rule_no_install_after_the_credentials(
    workflow: str, name: str, job: dict[str, Any]
) -> None:
    loaded = None
    for step in steps(job):
        if is_credentials(step):
            loaded = label(step)
        elif loaded is not None:
            assert not is_install(step), (
                f"rule: {workflow} job {name!r}: install step {label(step)!r} comes after the "
                f"credentials step {loaded!r}; install everything before credentials are loaded"
            )
            assert not implicit_install(step), (
                f"rule: {workflow} job {name!r}: step {label(step)!r} runs make after the "
                f"credentials step {loaded!r} without first checking (make -q .venv/.stamp ...) "
                "that make installs nothing"
            )


@pytest.mark.parametrize(("workflow", "name", "job"), all_jobs(), ids=job_ids())
def test_rule_no_plaintext_plan_is_uploaded(workflow: str, name: str, job: dict[str, Any]) -> None:
    for step in steps(job):
        if not str(step.get("uses", "")).startswith("actions/upload-artifact"):
            continue
        paths = str(step.get("with", {}).get("path", "")).split()
        for path in paths:
            plaintext = ("plan.json", "plan.txt")
            assert not path.endswith((".tfplan", ".tfplan*", "*")) and not any(
                p in path for p in plaintext
            ), (
                f"rule: {workflow} job {name!r} uploads {path!r}: a saved plan (or plan.json) "
                "(or plan.txt) holds state values in plaintext; upload only the sealed plan"
            )


def test_rule_the_deploy_plan_job_seals_the_plan_and_deletes_the_plaintext() -> None:
    plan = steps(jobs(DEPLOY)["plan"])
    runs = [str(s.get("run", "")) for s in plan]
    seal = [i for i, r in enumerate(runs) if "tools.plan_seal seal" in r]
    upload = [i for i, s in enumerate(plan) if "upload-artifact" in str(s.get("uses", ""))]
    assert seal, "rule: the deploy plan job seals plan.tfplan with tools.plan_seal"
    assert "--public-key-env PLAN_SEAL_PUBLIC_KEY" in runs[seal[0]]
    assert "vars.PLAN_SEAL_PUBLIC_KEY" in step_text(plan[seal[0]])
    assert re.search(r"rm -f [^\n]*plan\.tfplan\"", runs[seal[0]]), (
        "rule: the seal step deletes the plaintext plan.tfplan"
    )
    assert upload, "the deploy plan job uploads the sealed plan"
    assert seal[0] < upload[0], "rule: the plan is sealed before the upload"
    uploaded = str(plan[upload[0]]["with"]["path"])
    assert "plan.tfplan.sealed" in uploaded


def test_rule_the_apply_job_opens_the_sealed_plan_with_the_environment_secret() -> None:
    apply = jobs(DEPLOY)["apply"]
    assert apply.get("environment"), "rule: the apply job runs in the GitHub environment"
    opens = [s for s in steps(apply) if "tools.plan_seal open" in str(s.get("run", ""))]
    assert opens, "rule: the apply job opens the sealed plan with tools.plan_seal open"
    step = opens[0]
    assert "--private-key-env PLAN_SEAL_PRIVATE_KEY" in step["run"]
    assert (
        step.get("env", {}).get("PLAN_SEAL_PRIVATE_KEY") == "${{ secrets.PLAN_SEAL_PRIVATE_KEY }}"
    )
    # The private key goes to that step only, and no other job sees it.
    for name, job in jobs(DEPLOY).items():
        for other in steps(job):
            if other != step:
                assert "PLAN_SEAL_PRIVATE_KEY }}" not in step_text(other), (
                    f"rule: only the apply job's open step reads the secret ({name})"
                )
    for name, job in jobs(PULL_REQUEST).items():
        assert "PLAN_SEAL_PRIVATE_KEY" not in yaml.safe_dump(job), name


def test_rule_the_apply_job_assumes_the_apply_role_after_opening() -> None:
    apply = steps(jobs(DEPLOY)["apply"])
    creds = [i for i, s in enumerate(apply) if is_credentials(s)]
    opens = [i for i, s in enumerate(apply) if "plan_seal open" in str(s.get("run", ""))]
    assert len(creds) == 1
    assert "_APPLY_ROLE_ARN" in str(apply[creds[0]]["with"]["role-to-assume"])
    assert opens[0] < creds[0]
    after = [str(s.get("run", "")) for s in apply[creds[0] + 1 :]]
    for run in after:
        for line in filter(None, (x.strip() for x in run.splitlines())):
            assert line.startswith(("terraform ", "export TF_CLI_CONFIG_FILE=")), (
                f"rule: only terraform runs with the apply role, found {line!r}"
            )


@pytest.mark.parametrize(("workflow", "name", "job"), all_jobs(), ids=job_ids())
def test_rule_ci_writes_no_assume_role_arn(workflow: str, name: str, job: dict[str, Any]) -> None:
    for step in steps(job):
        for key in step.get("env", {}):
            assert not str(key).lower().startswith("tf_var_assume_role"), (
                f"rule: {workflow} job {name!r} sets {key}: CI assumes no role"
            )
        assert not WRITES_ASSUME_ROLE.search(str(step.get("run", ""))), (
            f"rule: {workflow} job {name!r} step {label(step)!r} writes assume_role_arn: CI "
            "providers assume no role (the job's OIDC role is the account's role)"
        )


@pytest.mark.parametrize(("workflow", "name", "job"), all_jobs(), ids=job_ids())
def test_rule_ci_refuses_tfvars_that_set_assume_role(
    workflow: str, name: str, job: dict[str, Any]
) -> None:
    for step in steps(job):
        run = str(step.get("run", ""))
        if "terraform.tfvars" in run and "TFVARS" in run and ">" in run:
            assert TFVARS_REFUSAL.search(run), (
                f"rule: {workflow} job {name!r} writes terraform.tfvars without refusing one that "
                "sets assume_role_arn/assume_role_external_id (the plan role could chain into it)"
            )
            assert run.index("grep") < run.index("terraform.tfvars")
