resource "random_id" "storage" {
  byte_length = 3
  keepers = {
    name_prefix = var.name_prefix
  }
}

module "settings" {
  source = "./settings"

  target_subscription_ids   = var.target_subscription_ids
  required_tags             = var.required_tags
  dry_run                   = var.dry_run
  max_concurrency           = var.max_concurrency
  export_account_url        = azurerm_storage_account.this.primary_blob_endpoint
  export_container          = azurerm_storage_container.export.name
  daily_run_time_utc        = var.daily_run_time_utc
  automation_schedule_start = var.automation_schedule_start
}

locals {
  use_function   = var.runner == "function"
  use_automation = var.runner == "automation"

  runner_principal_id = one(concat(
    [for app in azurerm_linux_function_app.this : app.identity[0].principal_id],
    [for account in azurerm_automation_account.this : account.identity[0].principal_id],
  ))

  # The runbook is one file: a bootstrap carrying the runbook package built by `make package`.
  runbook_content = local.use_automation ? templatefile("${path.module}/runbook.py.tftpl", {
    package_b64 = filebase64(var.runbook_package_path)
    sha256      = filesha256(var.runbook_package_path)
  }) : null
}

resource "azurerm_resource_group" "this" {
  name     = "${var.name_prefix}-tag-enforcement"
  location = var.location
  tags     = var.tags
}

# --- storage: Function host storage (identity-based) and the tag export --------------------------
resource "azurerm_storage_account" "this" {
  #checkov:skip=CKV_AZURE_59:The Consumption-plan Function App and the Automation sandbox have no VNet to reach a private account; access is Entra ID only (shared keys and SAS off), TLS 1.2, no anonymous blobs.
  #checkov:skip=CKV2_AZURE_1:Microsoft-managed keys; the export holds VM names and tags only, no secrets.
  #checkov:skip=CKV2_AZURE_33:No private endpoint: the Function App and Automation sandboxes reach the account over Azure's network with Entra ID auth only (shared keys are off).
  name                     = "${var.name_prefix}tags${random_id.storage.hex}"
  resource_group_name      = azurerm_resource_group.this.name
  location                 = azurerm_resource_group.this.location
  account_kind             = "StorageV2"
  account_tier             = "Standard"
  account_replication_type = var.storage_replication_type

  min_tls_version                   = "TLS1_2"
  https_traffic_only_enabled        = true
  allow_nested_items_to_be_public   = false
  shared_access_key_enabled         = false
  default_to_oauth_authentication   = true
  local_user_enabled                = false
  infrastructure_encryption_enabled = true

  blob_properties {
    versioning_enabled = true

    delete_retention_policy {
      days = var.blob_retention_days
    }

    container_delete_retention_policy {
      days = var.blob_retention_days
    }
  }

  queue_properties {
    logging {
      delete                = true
      read                  = true
      write                 = true
      version               = "1.0"
      retention_policy_days = 10
    }
  }

  sas_policy {
    expiration_period = "0.01:00:00"
  }

  tags = var.tags
}

resource "azurerm_monitor_diagnostic_setting" "blob" {
  count = var.log_analytics_workspace_id == null ? 0 : 1

  name                       = "blob-access-logs"
  target_resource_id         = "${azurerm_storage_account.this.id}/blobServices/default"
  log_analytics_workspace_id = var.log_analytics_workspace_id

  enabled_log {
    category = "StorageRead"
  }

  enabled_log {
    category = "StorageWrite"
  }

  enabled_log {
    category = "StorageDelete"
  }
}

resource "azurerm_storage_container" "export" {
  #checkov:skip=CKV2_AZURE_21:Blob read logging is the diagnostic setting azurerm_monitor_diagnostic_setting.blob (StorageRead) to log_analytics_workspace_id, not the legacy storage insights this check looks for.
  name                  = var.export_container_name
  storage_account_id    = azurerm_storage_account.this.id
  container_access_type = "private"
}

# --- runner: Function App ------------------------------------------------------------------------
resource "azurerm_service_plan" "this" {
  #checkov:skip=CKV_AZURE_212:A daily batch job that a missed run only delays by a day; no standby instances for failover.
  #checkov:skip=CKV_AZURE_225:Zone redundancy needs Premium plans; a daily batch job does not warrant it (choose EP1+ through function_plan_sku).
  count = local.use_function ? 1 : 0

  name                = "${var.name_prefix}-tag-enforcement"
  resource_group_name = azurerm_resource_group.this.name
  location            = azurerm_resource_group.this.location
  os_type             = "Linux"
  sku_name            = var.function_plan_sku
  tags                = var.tags
}

resource "azurerm_linux_function_app" "this" {
  #checkov:skip=CKV_AZURE_56:The HTTP trigger is called by the AWS EventBridge API destination with a function key; Entra ID auth would need an AWS-side token broker.
  #checkov:skip=CKV_AZURE_221:Public endpoint needed: the AWS EventBridge API destination calls the HTTP trigger from outside Azure (function-key auth, HTTPS only).
  #checkov:skip=CKV_AZURE_213:No health check path: the app serves no long-running endpoint, only triggers.
  count = local.use_function ? 1 : 0

  name                = "${var.name_prefix}-tags-${random_id.storage.hex}"
  resource_group_name = azurerm_resource_group.this.name
  location            = azurerm_resource_group.this.location
  service_plan_id     = azurerm_service_plan.this[0].id

  storage_account_name          = azurerm_storage_account.this.name
  storage_uses_managed_identity = true
  content_share_force_disabled  = true

  functions_extension_version              = "~4"
  https_only                               = true
  builtin_logging_enabled                  = false
  ftp_publish_basic_authentication_enabled = false
  # zip_deploy_file deploys with the publishing profile: basic auth for deployment (HTTPS only)
  # stays on only while the module deploys the zip.
  webdeploy_publish_basic_authentication_enabled = var.function_package_path != null
  zip_deploy_file                                = var.function_package_path

  identity {
    type = "SystemAssigned"
  }

  site_config {
    minimum_tls_version                    = "1.2"
    scm_minimum_tls_version                = "1.2"
    ftps_state                             = "Disabled"
    http2_enabled                          = true
    application_insights_connection_string = var.application_insights_connection_string

    application_stack {
      python_version = "3.11"
    }
  }

  app_settings = merge(module.settings.run_settings, {
    TAG_ENFORCEMENT_SCHEDULE       = module.settings.timer_schedule
    SCM_DO_BUILD_DURING_DEPLOYMENT = "true"
    ENABLE_ORYX_BUILD              = "true"
  })

  tags = var.tags
}

# The Functions host keeps its state (timers, keys, the run queue) in the account with its identity.
resource "azurerm_role_assignment" "function_host_blob" {
  count = local.use_function ? 1 : 0

  scope                = azurerm_storage_account.this.id
  role_definition_name = "Storage Blob Data Owner"
  principal_id         = azurerm_linux_function_app.this[0].identity[0].principal_id
  principal_type       = "ServicePrincipal"
  description          = "fleetpatch tag enforcement: Functions host storage and the tag export"
}

resource "azurerm_role_assignment" "function_host_queue" {
  count = local.use_function ? 1 : 0

  scope                = azurerm_storage_account.this.id
  role_definition_name = "Storage Queue Data Contributor"
  principal_id         = azurerm_linux_function_app.this[0].identity[0].principal_id
  principal_type       = "ServicePrincipal"
  description          = "fleetpatch tag enforcement: the queue between the HTTP trigger and the run"
}

data "azurerm_function_app_host_keys" "this" {
  count = local.use_function ? 1 : 0

  name                = azurerm_linux_function_app.this[0].name
  resource_group_name = azurerm_resource_group.this.name
}

# --- runner: Automation Account + Python 3.10 runbook ---------------------------------------------
resource "azurerm_automation_account" "this" {
  #checkov:skip=CKV2_AZURE_24:Automation account encryption uses Microsoft-managed keys; its only variable holds non-secret settings.
  count = local.use_automation ? 1 : 0

  name                          = "${var.name_prefix}-tag-enforcement"
  location                      = azurerm_resource_group.this.location
  resource_group_name           = azurerm_resource_group.this.name
  sku_name                      = "Basic"
  public_network_access_enabled = false
  local_authentication_enabled  = false

  identity {
    type = "SystemAssigned"
  }

  tags = var.tags
}

resource "azurerm_automation_variable_string" "settings" {
  count = local.use_automation ? 1 : 0

  name                    = "FLEETPATCH_TAGS_SETTINGS"
  resource_group_name     = azurerm_resource_group.this.name
  automation_account_name = azurerm_automation_account.this[0].name
  description             = "Settings of the tag enforcement runbook (JSON object of setting name -> string)."
  value                   = jsonencode(module.settings.run_settings)
  encrypted               = true
}

resource "azurerm_automation_python3_package" "this" {
  for_each = local.use_automation ? var.automation_python_packages : {}

  name                    = each.key
  resource_group_name     = azurerm_resource_group.this.name
  automation_account_name = azurerm_automation_account.this[0].name
  content_uri             = each.value.content_uri
  content_version         = each.value.content_version
  hash_algorithm          = "sha256"
  hash_value              = each.value.sha256
  tags                    = var.tags
}

resource "azurerm_automation_runbook" "this" {
  count = local.use_automation ? 1 : 0

  name                     = "enforce-vm-tags"
  location                 = azurerm_resource_group.this.location
  resource_group_name      = azurerm_resource_group.this.name
  automation_account_name  = azurerm_automation_account.this[0].name
  runbook_type             = "Python3"
  runtime_environment_name = "Python-3.10"
  log_progress             = true
  log_verbose              = false
  description              = "fleetpatch: add missing required tags to every VM (merge only) and export all VM tags."
  content                  = local.runbook_content
  tags                     = var.tags
}

resource "azurerm_automation_schedule" "daily" {
  count = local.use_automation ? 1 : 0

  name                    = "daily-vm-tag-enforcement"
  resource_group_name     = azurerm_resource_group.this.name
  automation_account_name = azurerm_automation_account.this[0].name
  frequency               = "Day"
  interval                = 1
  timezone                = "Etc/UTC"
  start_time              = module.settings.automation_schedule_start
  description             = "Daily VM tag enforcement at ${var.daily_run_time_utc} UTC."

  lifecycle {
    ignore_changes = [start_time]
  }
}

resource "azurerm_automation_job_schedule" "daily" {
  count = local.use_automation ? 1 : 0

  resource_group_name     = azurerm_resource_group.this.name
  automation_account_name = azurerm_automation_account.this[0].name
  schedule_name           = azurerm_automation_schedule.daily[0].name
  runbook_name            = azurerm_automation_runbook.this[0].name
}

resource "azurerm_role_assignment" "automation_export" {
  count = local.use_automation ? 1 : 0

  scope                = azurerm_storage_container.export.id
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = azurerm_automation_account.this[0].identity[0].principal_id
  principal_type       = "ServicePrincipal"
  description          = "fleetpatch tag enforcement runbook: writes the tag export"
}

# --- access to the target subscriptions ----------------------------------------------------------
resource "azurerm_role_assignment" "target" {
  for_each = module.settings.target_roles

  scope                = "/subscriptions/${each.value.subscription_id}"
  role_definition_name = each.value.role
  principal_id         = local.runner_principal_id
  principal_type       = "ServicePrincipal"
  description          = "fleetpatch tag enforcement (${var.runner}) on ${each.value.subscription_id}"
}
