locals {
  # Nothing runs at apply time for a cron schedule: the association waits for its first cron
  # interval. A rate schedule has no interval to wait for, so SSM rejects the flag there.
  is_cron = startswith(var.schedule_expression, "cron(")

  association_name = "${var.name_prefix}-gather-software-inventory"
  sync_name        = "${var.name_prefix}-inventory-sync"
}

resource "aws_ssm_association" "inventory" {
  name                        = "AWS-GatherSoftwareInventory"
  association_name            = local.association_name
  schedule_expression         = var.schedule_expression
  apply_only_at_cron_interval = local.is_cron
  compliance_severity         = var.compliance_severity
  max_concurrency             = var.max_concurrency
  max_errors                  = var.max_errors
  parameters                  = var.inventory_parameters
  tags                        = var.tags

  # Every managed node of the account and region: EC2 instances and hybrid (mi-) nodes alike.
  targets {
    key    = "InstanceIds"
    values = ["*"]
  }

  output_location {
    s3_bucket_name = var.output_bucket_name
    s3_key_prefix  = var.output_key_prefix
    s3_region      = var.output_bucket_region
  }
}

resource "aws_ssm_resource_data_sync" "central" {
  name = local.sync_name

  s3_destination {
    bucket_name = var.sync_bucket_name
    region      = var.sync_bucket_region
    prefix      = var.sync_prefix
    kms_key_arn = var.sync_kms_key_arn
    sync_format = "JsonSerDe"
  }
}
