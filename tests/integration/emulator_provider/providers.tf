# The aws provider pointed at the embedded emulator (tests/emulator): the same block
# environments/local uses, one account. Every service the modules call has an endpoint.
provider "aws" {
  region                      = var.region
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
    role_arn = "arn:aws:iam::${var.account_id}:role/fleetpatch-emulator"
  }

  default_tags {
    tags = { Project = "fleetpatch", Purpose = "emulator-coverage" }
  }
}
