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
  features {}
  subscription_id = var.subscription_id
  # The tag export's storage account has shared keys disabled: data-plane calls use Entra ID.
  storage_use_azuread = true
}

# The account and region that hold the hybrid activation and start the daily Azure run (the
# security account in the seed's topology).
provider "aws" {
  region      = var.aws_region
  max_retries = 3

  default_tags {
    tags = var.tags
  }
}
