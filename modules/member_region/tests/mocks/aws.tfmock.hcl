# Mock values of the aws provider shared by the member_region tests and the environments' tests
# (mock_provider "aws" { source = ".../modules/member_region/tests/mocks" }). Computed attributes
# get their values at plan because other resources validate or embed them (ARNs, ids).
mock_data "aws_iam_policy_document" {
  override_during = plan
  defaults = {
    json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
  }
}
mock_data "aws_partition" {
  override_during = plan
  defaults = {
    partition = "aws"
  }
}
mock_data "aws_region" {
  override_during = plan
  defaults = {
    name = "us-west-2"
  }
}
mock_data "aws_caller_identity" {
  override_during = plan
  defaults = {
    account_id = "111111111111"
  }
}
mock_resource "aws_s3_bucket" {
  override_during = plan
  defaults = {
    arn = "arn:aws:s3:::mock-bucket"
  }
}
mock_resource "aws_iam_role" {
  override_during = plan
  defaults = {
    arn = "arn:aws:iam::111111111111:role/mock-role"
  }
}
mock_resource "aws_kms_key" {
  override_during = plan
  defaults = {
    arn    = "arn:aws:kms:us-west-2:111111111111:key/00000000-0000-0000-0000-000000000000"
    key_id = "00000000-0000-0000-0000-000000000000"
  }
}
mock_resource "aws_sns_topic" {
  override_during = plan
  defaults = {
    arn = "arn:aws:sns:us-west-2:111111111111:mock-topic"
  }
}
mock_resource "aws_cloudwatch_event_rule" {
  override_during = plan
  defaults = {
    arn = "arn:aws:events:us-west-2:111111111111:rule/mock-rule"
  }
}
mock_resource "aws_ssm_patch_baseline" {
  override_during = plan
  defaults = {
    id  = "pb-0123456789abcdef0"
    arn = "arn:aws:ssm:us-west-2:111111111111:patchbaseline/pb-0123456789abcdef0"
  }
}
mock_resource "aws_resourcegroups_group" {
  override_during = plan
  defaults = {
    arn = "arn:aws:resource-groups:us-west-2:111111111111:group/mock"
  }
}
mock_resource "aws_iam_policy" {
  override_during = plan
  defaults = {
    arn = "arn:aws:iam::111111111111:policy/mock-policy"
  }
}
mock_resource "aws_iam_instance_profile" {
  override_during = plan
  defaults = {
    arn = "arn:aws:iam::111111111111:instance-profile/mock-profile"
  }
}
mock_resource "aws_sqs_queue" {
  override_during = plan
  defaults = {
    arn = "arn:aws:sqs:us-west-2:111111111111:mock-queue"
    url = "https://sqs.us-west-2.amazonaws.com/111111111111/mock-queue"
  }
}
mock_resource "aws_lambda_function" {
  override_during = plan
  defaults = {
    arn           = "arn:aws:lambda:us-west-2:111111111111:function:mock-function"
    invoke_arn    = "arn:aws:apigateway:us-west-2:lambda:path/2015-03-31/functions/arn:aws:lambda:us-west-2:111111111111:function:mock-function/invocations"
    qualified_arn = "arn:aws:lambda:us-west-2:111111111111:function:mock-function:1"
  }
}
mock_resource "aws_cloudwatch_log_group" {
  override_during = plan
  defaults = {
    arn = "arn:aws:logs:us-west-2:111111111111:log-group:mock"
  }
}
mock_resource "aws_ssm_document" {
  override_during = plan
  defaults = {
    default_version = "1"
    arn             = "arn:aws:ssm:us-west-2:111111111111:document/mock"
  }
}
mock_resource "aws_config_aggregate_authorization" {
  override_during = plan
  defaults = {
    arn = "arn:aws:config:us-west-2:111111111111:aggregation-authorization/333333333333/us-east-1"
  }
}
