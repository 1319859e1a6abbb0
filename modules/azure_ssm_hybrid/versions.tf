terraform {
  required_version = ">= 1.11"

  # azurerm: exactly the version `make azurerm-check` checks against
  # (requirements/azurerm-schema.txt).
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "4.81.0"
    }
  }
}
