# The only difference from environments/security, shared-services and application: every aws
# provider talks to the embedded AWS emulator (tests/emulator, started by `make demo`) instead of
# AWS. Each account is a distinct account id reached through sts:AssumeRole, as in the real
# environments; the emulator's fixed dummy key "test" signs the AssumeRole call.

locals {
  # The emulator serves the aws partition only; ARNs are still built from it, never spelled out.
  partition = "aws"

  security_role_arn        = "arn:${local.partition}:iam::${var.security_account_id}:role/${var.deploy_role_name}"
  shared_services_role_arn = "arn:${local.partition}:iam::${var.shared_services_account_id}:role/${var.deploy_role_name}"
  application_role_arn     = "arn:${local.partition}:iam::${var.application_account_id}:role/${var.deploy_role_name}"
}

provider "aws" {
  alias               = "security"
  region              = var.home_region
  allowed_account_ids = [var.security_account_id]

  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = false
  s3_use_path_style           = true
  max_retries                 = 1

  endpoints {
    athena                   = var.endpoint
    cloudwatch               = var.endpoint
    cloudwatchlogs           = var.endpoint
    configservice            = var.endpoint
    ec2                      = var.endpoint
    events                   = var.endpoint
    glue                     = var.endpoint
    iam                      = var.endpoint
    kms                      = var.endpoint
    lambda                   = var.endpoint
    resourcegroups           = var.endpoint
    resourcegroupstaggingapi = var.endpoint
    s3                       = var.endpoint
    scheduler                = var.endpoint
    secretsmanager           = var.endpoint
    sns                      = var.endpoint
    sqs                      = var.endpoint
    ssm                      = var.endpoint
    sts                      = var.endpoint
  }

  assume_role {
    role_arn     = local.security_role_arn
    session_name = "fleetpatch-security"
  }

  default_tags {
    tags = local.security_tags
  }
}

provider "aws" {
  alias               = "shared_services_primary"
  region              = var.primary_region
  allowed_account_ids = [var.shared_services_account_id]

  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = false
  s3_use_path_style           = true
  max_retries                 = 1

  endpoints {
    athena                   = var.endpoint
    cloudwatch               = var.endpoint
    cloudwatchlogs           = var.endpoint
    configservice            = var.endpoint
    ec2                      = var.endpoint
    events                   = var.endpoint
    glue                     = var.endpoint
    iam                      = var.endpoint
    kms                      = var.endpoint
    lambda                   = var.endpoint
    resourcegroups           = var.endpoint
    resourcegroupstaggingapi = var.endpoint
    s3                       = var.endpoint
    scheduler                = var.endpoint
    secretsmanager           = var.endpoint
    sns                      = var.endpoint
    sqs                      = var.endpoint
    ssm                      = var.endpoint
    sts                      = var.endpoint
  }

  assume_role {
    role_arn     = local.shared_services_role_arn
    session_name = "fleetpatch-shared-services"
  }

  default_tags {
    tags = local.shared_services_tags
  }
}

provider "aws" {
  alias               = "shared_services_secondary"
  region              = var.secondary_region
  allowed_account_ids = [var.shared_services_account_id]

  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = false
  s3_use_path_style           = true
  max_retries                 = 1

  endpoints {
    athena                   = var.endpoint
    cloudwatch               = var.endpoint
    cloudwatchlogs           = var.endpoint
    configservice            = var.endpoint
    ec2                      = var.endpoint
    events                   = var.endpoint
    glue                     = var.endpoint
    iam                      = var.endpoint
    kms                      = var.endpoint
    lambda                   = var.endpoint
    resourcegroups           = var.endpoint
    resourcegroupstaggingapi = var.endpoint
    s3                       = var.endpoint
    scheduler                = var.endpoint
    secretsmanager           = var.endpoint
    sns                      = var.endpoint
    sqs                      = var.endpoint
    ssm                      = var.endpoint
    sts                      = var.endpoint
  }

  assume_role {
    role_arn     = local.shared_services_role_arn
    session_name = "fleetpatch-shared-services"
  }

  default_tags {
    tags = local.shared_services_tags
  }
}

provider "aws" {
  alias               = "application_primary"
  region              = var.primary_region
  allowed_account_ids = [var.application_account_id]

  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = false
  s3_use_path_style           = true
  max_retries                 = 1

  endpoints {
    athena                   = var.endpoint
    cloudwatch               = var.endpoint
    cloudwatchlogs           = var.endpoint
    configservice            = var.endpoint
    ec2                      = var.endpoint
    events                   = var.endpoint
    glue                     = var.endpoint
    iam                      = var.endpoint
    kms                      = var.endpoint
    lambda                   = var.endpoint
    resourcegroups           = var.endpoint
    resourcegroupstaggingapi = var.endpoint
    s3                       = var.endpoint
    scheduler                = var.endpoint
    secretsmanager           = var.endpoint
    sns                      = var.endpoint
    sqs                      = var.endpoint
    ssm                      = var.endpoint
    sts                      = var.endpoint
  }

  assume_role {
    role_arn     = local.application_role_arn
    session_name = "fleetpatch-application"
  }

  default_tags {
    tags = local.application_tags
  }
}

provider "aws" {
  alias               = "application_secondary"
  region              = var.secondary_region
  allowed_account_ids = [var.application_account_id]

  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = false
  s3_use_path_style           = true
  max_retries                 = 1

  endpoints {
    athena                   = var.endpoint
    cloudwatch               = var.endpoint
    cloudwatchlogs           = var.endpoint
    configservice            = var.endpoint
    ec2                      = var.endpoint
    events                   = var.endpoint
    glue                     = var.endpoint
    iam                      = var.endpoint
    kms                      = var.endpoint
    lambda                   = var.endpoint
    resourcegroups           = var.endpoint
    resourcegroupstaggingapi = var.endpoint
    s3                       = var.endpoint
    scheduler                = var.endpoint
    secretsmanager           = var.endpoint
    sns                      = var.endpoint
    sqs                      = var.endpoint
    ssm                      = var.endpoint
    sts                      = var.endpoint
  }

  assume_role {
    role_arn     = local.application_role_arn
    session_name = "fleetpatch-application"
  }

  default_tags {
    tags = local.application_tags
  }
}
