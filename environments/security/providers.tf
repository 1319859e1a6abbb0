# One aws provider: the security account's home Region, reached by assuming assume_role_arn from
# your usual credentials (profile, SSO, environment). allowed_account_ids stops a plan or apply
# that would land in any other account.
provider "aws" {
  region              = var.home_region
  allowed_account_ids = [var.account_id]

  # assume_role_arn = null (CI): assume nothing, the credentials already are the account's
  # role (the job's OIDC role: the read-only plan role or the apply role).
  dynamic "assume_role" {
    for_each = var.assume_role_arn == null ? [] : [var.assume_role_arn]
    content {
      role_arn     = assume_role.value
      session_name = "fleetpatch-security"
      external_id  = var.assume_role_external_id
    }
  }

  default_tags {
    tags = local.tags
  }
}
