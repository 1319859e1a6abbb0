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
  # One scheduler a day (the runbook's is always its own schedule): the Function's timer, or the
  # AWS-side EventBridge schedule (modules/cross_cloud_trigger), with the timer then disabled
  # (https://learn.microsoft.com/en-us/azure/azure-functions/disable-function).
  timer_enabled = local.use_function && var.scheduler == "timer"

  runner_principal_id = one(concat(
    [for identity in azurerm_user_assigned_identity.function : identity.principal_id],
    [for account in azurerm_automation_account.this : account.identity[0].principal_id],
  ))

  # FLEETPATCH_SSM_* for the SSM tag reconciler (fleetpatch_tags/config.py); none = it is off.
  ssm_settings = var.ssm_tag_sync == null ? {} : {
    FLEETPATCH_SSM_ROLE_ARN       = var.ssm_tag_sync.role_arn
    FLEETPATCH_SSM_REGION         = var.ssm_tag_sync.region
    FLEETPATCH_SSM_TAG_KEY        = var.ssm_tag_sync.tag_key
    FLEETPATCH_SSM_AZURE_TAG      = coalesce(var.ssm_tag_sync.azure_tag_name, var.ssm_tag_sync.tag_key)
    FLEETPATCH_SSM_TOKEN_AUDIENCE = var.ssm_tag_sync.audience
  }
  run_settings = merge(module.settings.run_settings, local.ssm_settings)

  # The runbook's wheels, generated from azure_function/requirements.txt by
  # `python -m tools.package --runbook-wheels` (never typed here).
  runbook_packages = local.use_automation ? jsondecode(file("${path.module}/runbook_packages.json")).packages : {}

  # The provider redeploys zip_deploy_file only when its path changes: the path carries the
  # package's content hash (build/azure_function_app-<16 hex>.zip from `make package`).
  function_package_hash = var.function_package_path == null ? null : regex("-([0-9a-f]{16})\\.zip$", var.function_package_path)[0]

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
# Shared keys are off. Terraform touches the account through Resource Manager (the containers use
# storage_account_id) and, for the queue analytics settings only, the Queue service's Set Queue
# Service Properties with Entra ID (the provider's storage_use_azuread = true), which the
# deployer's Contributor role allows; no blob, queue or table data is written by Terraform.
resource "azurerm_storage_account" "this" {
  #checkov:skip=CKV_AZURE_33:Queue logging is azurerm_storage_account_queue_properties.this (outside the account resource, as the provider asks for with shared keys off).
  #checkov:skip=CKV_AZURE_59:The Flex Consumption Function App and the Automation sandbox have no VNet to reach a private account; access is Entra ID only (shared keys and SAS off), TLS 1.2, no anonymous blobs.
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

  sas_policy {
    expiration_period = "0.01:00:00"
  }

  tags = var.tags
}

resource "azurerm_storage_account_queue_properties" "this" {
  storage_account_id = azurerm_storage_account.this.id

  logging {
    delete                = true
    read                  = true
    write                 = true
    version               = "1.0"
    retention_policy_days = 10
  }
}

resource "azurerm_monitor_diagnostic_setting" "blob" {
  name                       = "blob-access-logs"
  target_resource_id         = "${azurerm_storage_account.this.id}/blobServices/default"
  log_analytics_workspace_id = local.workspace_id

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

# --- run logs: Log Analytics + workspace-based Application Insights ------------------------------
resource "azurerm_log_analytics_workspace" "this" {
  count = var.log_analytics_workspace_id == null ? 1 : 0

  name                = "${var.name_prefix}-tag-enforcement"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  sku                 = "PerGB2018"
  retention_in_days   = var.log_retention_days
  tags                = var.tags
}

locals {
  workspace_id = coalesce(var.log_analytics_workspace_id, one(azurerm_log_analytics_workspace.this[*].id))
}

resource "azurerm_application_insights" "this" {
  count = local.use_function ? 1 : 0

  name                = "${var.name_prefix}-tag-enforcement"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  workspace_id        = local.workspace_id
  application_type    = "other"
  retention_in_days   = var.log_retention_days
  tags                = var.tags
}

# --- runner: Function App on Flex Consumption ----------------------------------------------------
# Linux Consumption (Y1) retires on 30 September 2028 and gets no new features
# (https://learn.microsoft.com/en-us/azure/azure-functions/functions-versions); Flex Consumption
# (FC1) takes its deployment package from a blob container read with the app's identity.
resource "azurerm_user_assigned_identity" "function" {
  count = local.use_function ? 1 : 0

  name                = "${var.name_prefix}-tag-enforcement"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  tags                = var.tags
}

resource "azurerm_storage_container" "deployment" {
  count = local.use_function ? 1 : 0

  name                  = "function-releases"
  storage_account_id    = azurerm_storage_account.this.id
  container_access_type = "private"
}
resource "azurerm_service_plan" "this" {
  #checkov:skip=CKV_AZURE_212:A daily batch job that a missed run only delays by a day; no standby instances for failover.
  #checkov:skip=CKV_AZURE_225:Zone redundancy is not offered for this daily batch job's Flex Consumption plan here.
  count = local.use_function ? 1 : 0

  name                = "${var.name_prefix}-tag-enforcement"
  resource_group_name = azurerm_resource_group.this.name
  location            = azurerm_resource_group.this.location
  os_type             = "Linux"
  sku_name            = "FC1"
  tags                = var.tags
}

# The identity's storage roles exist before the app: the host keeps its keys, timer leases and
# the run queue in the account, and the first deployment writes the package to the deployment
# container, both with this identity (AzureWebJobsStorage identity connection:
# https://learn.microsoft.com/en-us/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity).
resource "azurerm_role_assignment" "function_host_blob" {
  count = local.use_function ? 1 : 0

  scope                = azurerm_storage_account.this.id
  role_definition_name = "Storage Blob Data Owner"
  principal_id         = azurerm_user_assigned_identity.function[0].principal_id
  principal_type       = "ServicePrincipal"
  description          = "fleetpatch tag enforcement: Functions host storage, deployment package and tag export"
}

resource "azurerm_role_assignment" "function_host_queue" {
  count = local.use_function ? 1 : 0

  scope                = azurerm_storage_account.this.id
  role_definition_name = "Storage Queue Data Contributor"
  principal_id         = azurerm_user_assigned_identity.function[0].principal_id
  principal_type       = "ServicePrincipal"
  description          = "fleetpatch tag enforcement: the queue between the HTTP trigger and the run"
}

resource "azurerm_function_app_flex_consumption" "this" {
  #checkov:skip=CKV_AZURE_56:The HTTP trigger is called by the AWS EventBridge API destination with a function key; Entra ID auth would need an AWS-side token broker.
  #checkov:skip=CKV_AZURE_221:Public endpoint needed: the AWS EventBridge API destination calls the HTTP trigger from outside Azure (function-key auth, HTTPS only).
  count = local.use_function ? 1 : 0

  name                = "${var.name_prefix}-tags-${random_id.storage.hex}"
  resource_group_name = azurerm_resource_group.this.name
  location            = azurerm_resource_group.this.location
  service_plan_id     = azurerm_service_plan.this[0].id

  storage_container_type            = "blobContainer"
  storage_container_endpoint        = "${azurerm_storage_account.this.primary_blob_endpoint}${azurerm_storage_container.deployment[0].name}"
  storage_authentication_type       = "UserAssignedIdentity"
  storage_user_assigned_identity_id = azurerm_user_assigned_identity.function[0].id

  runtime_name           = "python"
  runtime_version        = var.function_python_version
  maximum_instance_count = 40
  instance_memory_in_mb  = 2048
  https_only             = true

  # zip_deploy_file publishes with the publishing profile: basic auth for deployment (HTTPS only)
  # stays on only while the module deploys the zip.
  webdeploy_publish_basic_authentication_enabled = var.function_package_path != null
  zip_deploy_file                                = var.function_package_path

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.function[0].id]
  }

  site_config {
    minimum_tls_version                    = "1.2"
    scm_minimum_tls_version                = "1.2"
    http2_enabled                          = true
    application_insights_connection_string = azurerm_application_insights.this[0].connection_string
  }

  app_settings = merge(local.run_settings, {
    TAG_ENFORCEMENT_SCHEDULE = module.settings.timer_schedule
    # The AWS-side schedule is the one scheduler: the timer does not fire.
    "AzureWebJobs.enforce_tags_daily.Disabled" = tostring(!local.timer_enabled)
    # Host storage with the identity. The provider also writes AzureWebJobsStorage as a key-based
    # connection string with an empty key, which the host would prefer over the identity settings;
    # "" overrides it (hashicorp/terraform-provider-azurerm#29693, #29149).
    AzureWebJobsStorage              = ""
    AzureWebJobsStorage__accountName = azurerm_storage_account.this.name
    AzureWebJobsStorage__credential  = "managedidentity"
    AzureWebJobsStorage__clientId    = azurerm_user_assigned_identity.function[0].client_id
    # DefaultAzureCredential in the app signs in as the same identity (ARM, Blob, the SSM sync).
    AZURE_CLIENT_ID                = azurerm_user_assigned_identity.function[0].client_id
    SCM_DO_BUILD_DURING_DEPLOYMENT = "true"
  })

  tags = var.tags

  depends_on = [
    azurerm_role_assignment.function_host_blob,
    azurerm_role_assignment.function_host_queue,
  ]

  lifecycle {
    precondition {
      condition     = var.function_package_path == null || substr(filesha256(coalesce(var.function_package_path, "/dev/null")), 0, 16) == local.function_package_hash
      error_message = "function_package_path must be the content-hashed zip `make package` writes (build/packages.json): its name's hash does not match its content."
    }
  }
}

# Read only after the app and its storage roles exist: the host creates its keys in the account.
data "azurerm_function_app_host_keys" "this" {
  count = local.use_function ? 1 : 0

  name                = azurerm_function_app_flex_consumption.this[0].name
  resource_group_name = azurerm_resource_group.this.name

  depends_on = [
    azurerm_function_app_flex_consumption.this,
    azurerm_role_assignment.function_host_blob,
    azurerm_role_assignment.function_host_queue,
  ]
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

# Automation's job logs and streams (the runbook's output and summary) to the workspace.
resource "azurerm_monitor_diagnostic_setting" "automation" {
  count = local.use_automation ? 1 : 0

  name                       = "runbook-job-logs"
  target_resource_id         = azurerm_automation_account.this[0].id
  log_analytics_workspace_id = local.workspace_id

  enabled_log {
    category = "JobLogs"
  }

  enabled_log {
    category = "JobStreams"
  }
}

resource "azurerm_automation_variable_string" "settings" {
  count = local.use_automation ? 1 : 0

  name                    = "FLEETPATCH_TAGS_SETTINGS"
  resource_group_name     = azurerm_resource_group.this.name
  automation_account_name = azurerm_automation_account.this[0].name
  description             = "Settings of the tag enforcement runbook (JSON object of setting name -> string)."
  value                   = jsonencode(local.run_settings)
  encrypted               = true
}

# Python 3.10 runbooks have no packages by default
# (https://learn.microsoft.com/en-us/azure/automation/python-3-packages): a runtime environment
# with every wheel the runbook imports, for its Linux x86-64 CPython 3.10 sandbox.
resource "azurerm_automation_runtime_environment" "this" {
  count = local.use_automation ? 1 : 0

  name                  = "fleetpatch-python-3-10"
  automation_account_id = azurerm_automation_account.this[0].id
  location              = azurerm_resource_group.this.location
  runtime_language      = "Python"
  runtime_version       = "3.10"
  description           = "fleetpatch tag enforcement: the wheels of azure_function/requirements.txt (runbook_packages.json)."
  tags                  = var.tags
}

resource "azurerm_automation_runtime_environment_package" "this" {
  for_each = local.runbook_packages

  name                              = each.key
  automation_runtime_environment_id = azurerm_automation_runtime_environment.this[0].id
  content_uri                       = each.value.url
  content_version                   = each.value.version
  hash_algorithm                    = "sha256"
  hash_value                        = each.value.sha256
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

resource "azurerm_automation_runbook" "this" {
  count = local.use_automation ? 1 : 0

  name                     = "enforce-vm-tags"
  location                 = azurerm_resource_group.this.location
  resource_group_name      = azurerm_resource_group.this.name
  automation_account_name  = azurerm_automation_account.this[0].name
  runbook_type             = "Python3"
  runtime_environment_name = azurerm_automation_runtime_environment.this[0].name
  log_progress             = true
  log_verbose              = false
  description              = "fleetpatch: add missing required tags to every VM (merge only) and export all VM tags."
  content                  = local.runbook_content
  tags                     = var.tags

  # Inline: the provider deletes a separate azurerm_automation_job_schedule whenever the runbook
  # changes (hashicorp/terraform-provider-azurerm#8634, #17970); inline it is re-linked.
  job_schedule {
    schedule_name = azurerm_automation_schedule.daily[0].name
  }

  depends_on = [azurerm_automation_runtime_environment_package.this]
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
