terraform {
  required_version = ">= 1.11"

  # azurerm: exactly the version `make azurerm-check` checks against
  # (requirements/azurerm-schema.txt).
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "4.81.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}

provider "azurerm" {
  features {
    storage {
      # azurerm_storage_account is read and written through Resource Manager only: without this
      # the provider also reads the account's queue/static-website properties from the data plane
      # on every plan, a 403 for a deployer without data-plane access
      # (hashicorp/terraform-provider-azurerm#29984, #33454). The one data-plane call left is
      # azurerm_storage_account_queue_properties (Get/Set Queue Service Properties).
      data_plane_available = false
    }
  }
  subscription_id = var.subscription_id
  # The tag export's storage account has shared keys disabled: data-plane calls use Entra ID.
  storage_use_azuread = true
}

# The account and region that hold the hybrid activations and start the daily Azure run (the
# security account and its home_region in the seed's topology), reached like the other
# environments by assuming assume_role_arn from your usual credentials; allowed_account_ids stops
# a plan or apply that would land in any other account.
provider "aws" {
  region              = var.aws_region
  max_retries         = 3
  allowed_account_ids = [var.account_id]

  # assume_role_arn = null (CI): assume nothing, the credentials already are the account's
  # role (the job's OIDC role: the read-only plan role or the apply role).
  dynamic "assume_role" {
    for_each = var.assume_role_arn == null ? [] : [var.assume_role_arn]
    content {
      role_arn     = assume_role.value
      session_name = "fleetpatch-azure"
      external_id  = var.assume_role_external_id
    }
  }

  default_tags {
    tags = var.tags
  }
}
