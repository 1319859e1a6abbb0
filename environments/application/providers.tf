# One aws provider per Region, both reaching the application account by assuming assume_role_arn from
# your usual credentials (profile, SSO, environment). allowed_account_ids stops a plan or apply
# that would land in any other account. Every resource lives in a module given one of these.

provider "aws" {
  alias               = "primary"
  region              = var.primary_region
  allowed_account_ids = [var.account_id]

  # assume_role_arn = null (CI): assume nothing, the credentials already are the account's
  # role (the job's OIDC role: the read-only plan role or the apply role).
  dynamic "assume_role" {
    for_each = var.assume_role_arn == null ? [] : [var.assume_role_arn]
    content {
      role_arn     = assume_role.value
      session_name = "fleetpatch-application"
      external_id  = var.assume_role_external_id
    }
  }

  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias               = "secondary"
  region              = var.secondary_region
  allowed_account_ids = [var.account_id]

  # assume_role_arn = null (CI): assume nothing, the credentials already are the account's
  # role (the job's OIDC role: the read-only plan role or the apply role).
  dynamic "assume_role" {
    for_each = var.assume_role_arn == null ? [] : [var.assume_role_arn]
    content {
      role_arn     = assume_role.value
      session_name = "fleetpatch-application"
      external_id  = var.assume_role_external_id
    }
  }

  default_tags {
    tags = local.tags
  }
}
