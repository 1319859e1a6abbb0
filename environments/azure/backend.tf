# Remote state in your own S3 bucket — the one holding the other environments' state — configured
# at init time (partial configuration), e.g. with a backend.hcl next to this file (copy
# backend.hcl.example; `make plan ENV=azure` passes it when present):
#
#   terraform -chdir=environments/azure init \
#     -backend-config="bucket=<your-state-bucket>" \
#     -backend-config="key=fleetpatch/azure.tfstate" \
#     -backend-config="region=<state bucket region>" \
#     -backend-config="encrypt=true" \
#     -backend-config="use_lockfile=true"
#
# Why S3 and not the azurerm backend: this state holds AWS secrets — the hybrid activation codes
# (TF_VAR_hybrid_activations, in the run commands' protected parameters) — and the Function's
# default function key; the security environment's state in the same bucket already holds the
# same codes, so one encrypted, access-controlled bucket (and one lock mechanism, S3's lock file)
# protects both. This environment needs AWS credentials anyway (its aws provider). An azurerm
# backend would need a storage account created beforehand and a data-plane role (Storage Blob
# Data Contributor with use_azuread_auth) for every deployer.
# Without a backend.hcl, `terraform init` asks for the settings; never keep this state local.
terraform {
  # Encrypted at rest and locked (S3 native lock file, Terraform >= 1.10) even with a backend.hcl
  # that leaves them out: the state holds secrets (function keys, activation codes).
  backend "s3" {
    encrypt      = true
    use_lockfile = true
  }
}
