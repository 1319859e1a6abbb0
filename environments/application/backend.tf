# Remote state in your own S3 bucket, configured at init time (partial configuration), e.g. with a
# backend.hcl next to this file (copy backend.hcl.example; `make plan` passes it when present):
#
#   terraform -chdir=environments/application init \
#     -backend-config="bucket=<your-state-bucket>" \
#     -backend-config="key=fleetpatch/application.tfstate" \
#     -backend-config="region=<state bucket region>" \
#     -backend-config="encrypt=true" \
#     -backend-config="use_lockfile=true"
#
# `make validate` runs `terraform init -backend=false` and needs none of this.
terraform {
  # Encrypted at rest and locked (S3 native lock file, Terraform >= 1.10) even with a backend.hcl
  # that leaves them out: the state holds secrets (function keys, activation codes).
  backend "s3" {
    encrypt      = true
    use_lockfile = true
  }
}
