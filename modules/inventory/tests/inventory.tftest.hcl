mock_provider "aws" {}

variables {
  name_prefix        = "ss-oregon"
  output_bucket_name = "ss-oregon-inventory"
  sync_bucket_name   = "sec-central-resource-data-sync"
  sync_bucket_region = "us-west-2"
  tags               = { Environment = "test" }
}

run "rate_schedule_on_every_managed_node" {
  command = plan

  assert {
    condition     = aws_ssm_association.inventory.name == "AWS-GatherSoftwareInventory"
    error_message = "the association runs AWS-GatherSoftwareInventory"
  }
  assert {
    condition     = one(aws_ssm_association.inventory.targets).key == "InstanceIds" && one(aws_ssm_association.inventory.targets).values == tolist(["*"])
    error_message = "the association targets every managed node (InstanceIds = *)"
  }
  assert {
    condition     = aws_ssm_association.inventory.schedule_expression == "rate(30 minutes)"
    error_message = "the default schedule is rate(30 minutes)"
  }
  assert {
    condition     = aws_ssm_association.inventory.apply_only_at_cron_interval == false
    error_message = "apply_only_at_cron_interval is only set for cron schedules (SSM rejects it with rate)"
  }
  assert {
    condition     = one(aws_ssm_association.inventory.output_location).s3_bucket_name == "ss-oregon-inventory" && one(aws_ssm_association.inventory.output_location).s3_key_prefix == "inventory"
    error_message = "command output goes to the inventory bucket"
  }
  assert {
    condition     = aws_ssm_association.inventory.parameters["applications"] == "Enabled" && aws_ssm_association.inventory.max_concurrency == "10%"
    error_message = "default inventory parameters and rate control are set"
  }
  assert {
    condition     = aws_ssm_association.inventory.tags["Environment"] == "test"
    error_message = "tags are applied"
  }
  assert {
    condition     = aws_ssm_resource_data_sync.central.name == "ss-oregon-inventory-sync"
    error_message = "the sync name takes the prefix"
  }
  assert {
    condition     = one(aws_ssm_resource_data_sync.central.s3_destination).bucket_name == "sec-central-resource-data-sync" && one(aws_ssm_resource_data_sync.central.s3_destination).region == "us-west-2" && one(aws_ssm_resource_data_sync.central.s3_destination).sync_format == "JsonSerDe" && one(aws_ssm_resource_data_sync.central.s3_destination).prefix == "inventory"
    error_message = "the region syncs to the central bucket in JsonSerDe"
  }
  assert {
    condition     = one(aws_ssm_resource_data_sync.central.s3_destination).kms_key_arn == null
    error_message = "no KMS key unless given"
  }
}

run "cron_schedule_waits_for_its_interval" {
  command = plan

  variables {
    schedule_expression = "cron(0 2 ? * SUN *)"
    sync_kms_key_arn    = "arn:aws:kms:us-west-2:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    sync_prefix         = "fleet/inventory"
  }

  assert {
    condition     = aws_ssm_association.inventory.schedule_expression == "cron(0 2 ? * SUN *)"
    error_message = "the schedule is passed as given"
  }
  assert {
    condition     = aws_ssm_association.inventory.apply_only_at_cron_interval == true
    error_message = "a cron association only runs at its cron interval, never at apply time"
  }
  assert {
    condition     = one(aws_ssm_resource_data_sync.central.s3_destination).kms_key_arn == "arn:aws:kms:us-west-2:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab" && one(aws_ssm_resource_data_sync.central.s3_destination).prefix == "fleet/inventory"
    error_message = "the KMS key and prefix of the central bucket are used"
  }
}

run "hourly_rate_is_accepted" {
  command = plan

  variables {
    schedule_expression = "rate(1 hour)"
  }

  assert {
    condition     = aws_ssm_association.inventory.schedule_expression == "rate(1 hour)" && !aws_ssm_association.inventory.apply_only_at_cron_interval
    error_message = "rate(1 hour) is a valid schedule"
  }
}

run "rejects_bad_name_prefix" {
  command = plan
  variables {
    name_prefix = "-ss"
  }
  expect_failures = [var.name_prefix]
}

run "rejects_rate_below_30_minutes" {
  command = plan
  variables {
    schedule_expression = "rate(15 minutes)"
  }
  expect_failures = [var.schedule_expression]
}

run "rejects_unix_cron_without_wrapper" {
  command = plan
  variables {
    schedule_expression = "0 2 * * *"
  }
  expect_failures = [var.schedule_expression]
}

run "rejects_plural_unit_for_one" {
  command = plan
  variables {
    schedule_expression = "rate(1 hours)"
  }
  expect_failures = [var.schedule_expression]
}

run "rejects_bad_output_bucket" {
  command = plan
  variables {
    output_bucket_name = "S3://inventory"
  }
  expect_failures = [var.output_bucket_name]
}

run "rejects_output_prefix_with_trailing_slash" {
  command = plan
  variables {
    output_key_prefix = "inventory/"
  }
  expect_failures = [var.output_key_prefix]
}

run "rejects_bad_output_region" {
  command = plan
  variables {
    output_bucket_region = "oregon"
  }
  expect_failures = [var.output_bucket_region]
}

run "rejects_unknown_inventory_parameter" {
  command = plan
  variables {
    inventory_parameters = { applications = "Yes" }
  }
  expect_failures = [var.inventory_parameters]
}

run "rejects_bad_compliance_severity" {
  command = plan
  variables {
    compliance_severity = "SEVERE"
  }
  expect_failures = [var.compliance_severity]
}

run "rejects_bad_max_concurrency" {
  command = plan
  variables {
    max_concurrency = "0"
  }
  expect_failures = [var.max_concurrency]
}

run "rejects_bad_max_errors" {
  command = plan
  variables {
    max_errors = "150%"
  }
  expect_failures = [var.max_errors]
}

run "rejects_bad_sync_bucket" {
  command = plan
  variables {
    sync_bucket_name = "arn:aws:s3:::central"
  }
  expect_failures = [var.sync_bucket_name]
}

run "rejects_bad_sync_region" {
  command = plan
  variables {
    sync_bucket_region = "US-WEST-2"
  }
  expect_failures = [var.sync_bucket_region]
}

run "rejects_sync_prefix_with_leading_slash" {
  command = plan
  variables {
    sync_prefix = "/inventory"
  }
  expect_failures = [var.sync_prefix]
}

run "rejects_kms_alias_for_sync" {
  command = plan
  variables {
    sync_kms_key_arn = "alias/central"
  }
  expect_failures = [var.sync_kms_key_arn]
}
