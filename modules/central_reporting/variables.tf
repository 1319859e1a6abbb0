variable "name_prefix" {
  type        = string
  description = "Prefix of every name (buckets, Glue database, Athena workgroup, named queries, aggregator, topic), e.g. \"sec-virginia\". Lowercase letters, digits and hyphens; 3-40 characters."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-40 characters of lowercase letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "bucket_name_suffix" {
  type        = string
  description = "What follows <name_prefix>-ssm-data-sync and <name_prefix>-athena-results in the bucket names. S3 bucket names are unique across every account of the partition: a name another account holds fails CreateBucket with BucketAlreadyExists (nothing else is created by that apply; fix the name and apply again). \"none\" (default) keeps today's names; \"account\" appends -<account id> and \"account-region\" -<account id>-<Region code> (recommended for new deployments). Changing it on an existing deployment replaces the buckets (objects are not moved) and the members' central_sync_bucket_name must follow (the sync_bucket_name output). The final names must stay within 63 characters (checked at plan)."
  default     = "none"
  nullable    = false

  validation {
    condition     = contains(["none", "account", "account-region"], var.bucket_name_suffix)
    error_message = "bucket_name_suffix must be \"none\", \"account\" or \"account-region\"."
  }
}

variable "member_account_ids" {
  type        = list(string)
  description = "AWS account ids (12 digits) whose Resource Data Syncs write to the central bucket and whose nodes the reports cover (shared services, application, and this security account when it has managed nodes). This account's own sync is always allowed to write to the bucket (it is added to the sync bucket and key policies), but the reports (Athena's accountid partitions) cover only the listed accounts: list it when it has managed nodes. Also the Config aggregator's source accounts when aggregator_mode = \"accounts\"."

  validation {
    condition     = length(var.member_account_ids) > 0 && alltrue([for id in var.member_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "member_account_ids must be a non-empty list of 12-digit AWS account ids, e.g. [\"111111111111\", \"222222222222\"]."
  }
  validation {
    condition     = length(distinct(var.member_account_ids)) == length(var.member_account_ids)
    error_message = "member_account_ids must not repeat an account id."
  }
}

variable "member_regions" {
  type        = list(string)
  description = "Regions whose Resource Data Syncs write to the central bucket (the partition projection values of the Glue tables), e.g. [\"us-west-2\", \"eu-west-2\"]. Also the Config aggregator's Regions unless aggregator_all_regions is true."

  validation {
    condition     = length(var.member_regions) > 0 && length(distinct(var.member_regions)) == length(var.member_regions) && alltrue([for r in var.member_regions : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", r))])
    error_message = "member_regions must be a non-empty list of distinct Region names such as \"us-west-2\" or \"eu-west-2\"."
  }
}

variable "sync_prefix" {
  type        = string
  description = "S3 prefix under which every member account's Resource Data Syncs write, each in its own folder: member_region's central_sync_prefix (it sets each sync's S3Destination Prefix to <prefix>/<account id>); \"\" for none. Objects land at <bucket>/<prefix>/<account id>/AWS:<Type>/accountid=<account id>/region=<region>/resourcetype=<type>/<node>.json; the bucket policy lets each account write only under <prefix>/<its account id>/. At most 243 characters (the sync's Prefix, with \"/<account id>\", is limited to 256)."
  default     = "inventory"

  validation {
    condition     = var.sync_prefix == "" || (can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$", var.sync_prefix)) && length(var.sync_prefix) <= 243)
    error_message = "sync_prefix must be \"\" or an S3 key path of at most 243 characters without leading or trailing \"/\" (letters, digits, !_.*'()- and \"/\" between parts)."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "ARN of an existing customer managed KMS key for the sync bucket, the Athena results and the topic. null creates one whose key policy lets ssm.amazonaws.com write for the member accounts' Resource Data Syncs and EventBridge publish to the topic; a given key needs those grants in its own policy."
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f-]{36}$|^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/mrk-[0-9a-f]{32}$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<key id>) or null; aliases are not accepted because S3 and the Resource Data Sync need the key itself."
  }
}

variable "kms_key_deletion_window_days" {
  type        = number
  description = "Waiting period (7-30 days) before the created KMS key is deleted after terraform destroy."
  default     = 30

  validation {
    condition     = var.kms_key_deletion_window_days >= 7 && var.kms_key_deletion_window_days <= 30 && floor(var.kms_key_deletion_window_days) == var.kms_key_deletion_window_days
    error_message = "kms_key_deletion_window_days must be a whole number from 7 to 30."
  }
}

variable "noncurrent_version_expiration_days" {
  type        = number
  description = "Days after which overwritten versions in the sync bucket are deleted. Resource Data Sync rewrites every node's objects on each inventory run, so old versions pile up quickly."
  default     = 7

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a whole number >= 1."
  }
}

variable "athena_results_expiration_days" {
  type        = number
  description = "Days after which Athena query results are deleted from the results bucket."
  default     = 30

  validation {
    condition     = var.athena_results_expiration_days >= 1 && floor(var.athena_results_expiration_days) == var.athena_results_expiration_days
    error_message = "athena_results_expiration_days must be a whole number >= 1."
  }
}

variable "athena_bytes_scanned_cutoff" {
  type        = number
  description = "Per-query data scan limit of the Athena workgroup, in bytes (minimum 10 MiB = 10485760); null for no limit."
  default     = 10737418240

  validation {
    condition     = var.athena_bytes_scanned_cutoff == null || try(var.athena_bytes_scanned_cutoff >= 10485760 && floor(var.athena_bytes_scanned_cutoff) == var.athena_bytes_scanned_cutoff, false)
    error_message = "athena_bytes_scanned_cutoff must be a whole number of bytes >= 10485760 (10 MiB), or null."
  }
}

variable "aggregator_mode" {
  type        = string
  description = "AWS Config aggregator: \"accounts\" (member_account_ids; each member must authorize this account with aws_config_aggregate_authorization), \"organization\" (every account of the AWS Organization; needs organization_aggregator_role_arn) or \"none\"."
  default     = "accounts"

  validation {
    condition     = contains(["accounts", "organization", "none"], var.aggregator_mode)
    error_message = "aggregator_mode must be \"accounts\", \"organization\" or \"none\"."
  }
}

variable "aggregator_all_regions" {
  type        = bool
  description = "Aggregate every current and future Region instead of member_regions."
  default     = false
}

variable "organization_aggregator_role_arn" {
  type        = string
  description = "IAM role the organization aggregator assumes (with the AWSConfigRoleForOrganizations policy). Required when aggregator_mode = \"organization\", otherwise null."
  default     = null

  validation {
    condition     = var.aggregator_mode == "organization" ? can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.organization_aggregator_role_arn)) : var.organization_aggregator_role_arn == null
    error_message = "organization_aggregator_role_arn must be an IAM role ARN (arn:<partition>:iam::<account>:role/<name>) when aggregator_mode = \"organization\", and null otherwise."
  }
}

variable "accept_member_compliance_events" {
  type        = bool
  description = "Let member accounts send events to this account's default event bus and publish their AWS Config NON_COMPLIANT changes to the central topic (members forward them with an EventBridge rule targeting this bus)."
  default     = true
}

variable "member_forwarder_role_names" {
  type        = list(string)
  description = "IAM role names (IAM wildcards * and ? allowed; the path is matched by a leading *) of the member accounts' roles that may put events on this account's default event bus: the bus statement requires aws:PrincipalArn to be one of arn:<partition>:iam::*:role/<name> besides the member account or organization, so no other principal of a member account can inject compliance events. The default is member_region's forwarder role, <name_prefix>-forward-non-compliant."
  default     = ["*-forward-non-compliant"]

  validation {
    # IAM role names: 1-64 of letters, digits and +=,.@_- (CreateRole RoleName), here with the
    # wildcards * and ? an ArnLike condition matches.
    condition     = length(var.member_forwarder_role_names) > 0 && alltrue([for n in var.member_forwarder_role_names : can(regex("^[A-Za-z0-9+=,.@_*?-]{1,64}$", n)) && n != "*"])
    error_message = "member_forwarder_role_names must list at least one role name of 1-64 letters, digits, +=,.@_- and the wildcards * ? (not \"*\" alone, which would admit every principal of a member account)."
  }
}

variable "access_log_bucket" {
  type        = string
  description = "Name of an existing bucket that receives S3 server access logs of the sync and Athena results buckets; null disables access logging."
  default     = null

  validation {
    condition     = var.access_log_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.access_log_bucket))
    error_message = "access_log_bucket must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens) or null."
  }
}

variable "force_destroy" {
  type        = bool
  description = "Allow terraform destroy to delete non-empty buckets and a workgroup with saved queries. Keep false outside test environments."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every taggable resource."
  default     = {}
}

variable "organization_id" {
  type        = string
  description = "AWS Organizations id (o-...) of the member accounts, or null. Set, the sync bucket policy and key policy admit ssm.amazonaws.com for any account of the organization (aws:SourceOrgID) and the default event bus admits its accounts (aws:PrincipalOrgID), so the policies stay the same size at any number of accounts; null lists member_account_ids in each (README \"Policy sizes\": without it about 660 member accounts fit the event bus policy (the first limit reached), 1,270 the sync bucket policy). Each account still writes only under its own <sync_prefix>/<account id>/ folder."
  default     = null

  validation {
    # Organization id: "o-" followed by 10-32 lowercase letters or digits
    # (https://docs.aws.amazon.com/organizations/latest/APIReference/API_Organization.html).
    condition     = var.organization_id == null || can(regex("^o-[a-z0-9]{10,32}$", var.organization_id))
    error_message = "organization_id must be an AWS Organizations id: \"o-\" followed by 10-32 lowercase letters or digits (e.g. \"o-a1b2c3d4e5\"), or null."
  }
}

variable "event_bus_policy_statements" {
  type        = list(any)
  description = "Statements (IAM policy JSON objects, each with a unique Sid) other tools need in the resource policy of this account's default event bus. With accept_member_compliance_events the module writes that whole policy (aws_cloudwatch_event_bus_policy), so statements not listed here are replaced at apply: read the current ones with `aws events describe-event-bus` first."
  default     = []

  validation {
    condition     = alltrue([for s in var.event_bus_policy_statements : can(s.Sid) && can(s.Effect) && can(s.Action) && can(s.Resource)])
    error_message = "event_bus_policy_statements must be IAM policy statements with Sid, Effect, Action and Resource (and Principal), as EventBridge resource policies require."
  }
  validation {
    condition     = length(distinct([for s in var.event_bus_policy_statements : try(s.Sid, "")])) == length(var.event_bus_policy_statements)
    error_message = "event_bus_policy_statements must not repeat a Sid."
  }
}
