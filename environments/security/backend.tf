# Remote state in your own S3 bucket, configured at init time (partial configuration), e.g. with a
# backend.hcl next to this file (copy backend.hcl.example; `make plan` passes it when present):
#
#   terraform -chdir=environments/security init \
#     -backend-config="bucket=<your-state-bucket>" \
#     -backend-config="key=fleetpatch/security.tfstate" \
#     -backend-config="region=<state bucket region>" \
#     -backend-config="encrypt=true" \
#     -backend-config="use_lockfile=true"
#
# `make validate` runs `terraform init -backend=false` and needs none of this.
terraform {
  backend "s3" {}
}
