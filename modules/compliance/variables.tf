variable "name_prefix" {
  type        = string
  description = "Prefix of every name (Config rules, topic, EventBridge rule, documents, roles), e.g. \"ss-oregon\". Lowercase letters, digits and hyphens; 3-40 characters."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-40 characters of lowercase letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "rules" {
  type        = set(string)
  description = "Which compliance rules to deploy: \"patch\" (EC2_MANAGEDINSTANCE_PATCH_COMPLIANCE_STATUS_CHECK, remediated with AWS-RunPatchBaseline) and/or \"association\" (EC2_MANAGEDINSTANCE_ASSOCIATION_COMPLIANCE_STATUS_CHECK, remediated with AWS-RefreshAssociation)."
  default     = ["patch", "association"]

  validation {
    condition     = length(var.rules) > 0 && alltrue([for r in var.rules : contains(["patch", "association"], r)])
    error_message = "rules must be a non-empty subset of [\"patch\", \"association\"]."
  }
}

variable "rule_unavailable_regions" {
  type        = map(list(string))
  description = "Per rule (\"patch\", \"association\"), the Regions where AWS Config does not offer that managed rule: the module skips the rule there (output skipped_rules) instead of failing at apply. The default is the union of the Regions the rules' pages exclude (https://docs.aws.amazon.com/config/latest/developerguide/ec2-managedinstance-patch-compliance-status-check.html, https://docs.aws.amazon.com/config/latest/developerguide/ec2-managedinstance-association-compliance-status-check.html, \"AWS Region\"; the page versions differ, so every Region any of them excludes is listed); remove a Region once AWS lists the rule there."
  default = {
    # Osaka, Milan, Taipei, Calgary.
    patch = ["ap-northeast-3", "eu-south-1", "ap-east-2", "ca-west-1"]
    # New Zealand, Thailand, Jakarta, Cape Town, Hyderabad, Osaka, Malaysia, Melbourne, Milan,
    # Mexico (Central), Tel Aviv, Taipei, Calgary, Spain, Zurich, Beijing, Ningxia, GovCloud.
    association = [
      "ap-southeast-6", "ap-southeast-7", "ap-southeast-3", "af-south-1", "ap-south-2", "ap-northeast-3",
      "ap-southeast-5", "ap-southeast-4", "eu-south-1", "mx-central-1", "il-central-1", "ap-east-2",
      "ca-west-1", "eu-south-2", "eu-central-2", "cn-north-1", "cn-northwest-1", "us-gov-east-1", "us-gov-west-1",
    ]
  }

  validation {
    condition     = alltrue([for k, regions in var.rule_unavailable_regions : contains(["patch", "association"], k) && alltrue([for r in regions : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", r))])])
    error_message = "rule_unavailable_regions must map \"patch\" and/or \"association\" to lists of AWS Region codes (e.g. \"ap-northeast-3\")."
  }
}

variable "create_recorder" {
  type        = bool
  description = "Create the region's AWS Config configuration recorder, delivery channel and recorder role. AWS allows one recorder per account and region: leave false where one exists already (the rules then use it)."
  default     = false
}

variable "recorder_name" {
  type        = string
  description = "Name of the configuration recorder and delivery channel created when create_recorder = true."
  default     = "default"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{1,256}$", var.recorder_name))
    error_message = "recorder_name must be 1-256 letters, digits, underscores, dots or hyphens."
  }
}

variable "record_all_supported" {
  type        = bool
  description = "Make the created recorder record every supported resource type (regional ones) instead of recorded_resource_types. Only with create_recorder = true."
  default     = false
}

variable "recorded_resource_types" {
  type        = list(string)
  description = "Resource types the created recorder records (only with create_recorder = true). The SSM compliance rules need AWS::SSM::PatchCompliance, AWS::SSM::AssociationCompliance and AWS::SSM::ManagedInstanceInventory."
  default     = ["AWS::SSM::ManagedInstanceInventory", "AWS::SSM::PatchCompliance", "AWS::SSM::AssociationCompliance", "AWS::EC2::Instance"]

  validation {
    condition = (
      alltrue([for t in var.recorded_resource_types : can(regex("^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$", t))]) &&
      length(setsubtract(["AWS::SSM::ManagedInstanceInventory", "AWS::SSM::PatchCompliance", "AWS::SSM::AssociationCompliance"], var.recorded_resource_types)) == 0
    )
    error_message = "recorded_resource_types must be AWS::<Service>::<Type> names and include AWS::SSM::ManagedInstanceInventory, AWS::SSM::PatchCompliance and AWS::SSM::AssociationCompliance."
  }
}

variable "delivery_bucket_name" {
  type        = string
  description = "S3 bucket of the created delivery channel (required with create_recorder = true). Its policy must let the recorder role write when it is in another account."
  default     = null

  validation {
    condition     = var.delivery_bucket_name == null ? !var.create_recorder : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.delivery_bucket_name))
    error_message = "delivery_bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens); it is required when create_recorder = true."
  }
}

variable "delivery_s3_key_prefix" {
  type        = string
  description = "Key prefix of the configuration history and snapshots in delivery_bucket_name (no leading or trailing slash)."
  default     = "config"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$", var.delivery_s3_key_prefix)) && !strcontains(var.delivery_s3_key_prefix, "AWSLogs")
    error_message = "delivery_s3_key_prefix must be letters, digits and !_.*'()- separated by single slashes, without a leading or trailing slash, and must not contain \"AWSLogs\"."
  }
}

variable "delivery_kms_key_arn" {
  type        = string
  description = "ARN of the KMS key that encrypts delivered objects; null uses the bucket's default encryption."
  default     = null

  validation {
    condition     = var.delivery_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.delivery_kms_key_arn))
    error_message = "delivery_kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "delivery_frequency" {
  type        = string
  description = "How often the created delivery channel delivers configuration snapshots: One_Hour, Three_Hours, Six_Hours, Twelve_Hours or TwentyFour_Hours."
  default     = "TwentyFour_Hours"

  validation {
    condition     = contains(["One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours"], var.delivery_frequency)
    error_message = "delivery_frequency must be one of One_Hour, Three_Hours, Six_Hours, Twelve_Hours, TwentyFour_Hours."
  }
}

variable "sns_kms_key_arn" {
  type        = string
  description = "ARN of a customer managed KMS key for the notification topic; its key policy must allow events.amazonaws.com kms:GenerateDataKey and kms:Decrypt. null creates a key (with rotation) for the topic. The AWS managed key aws/sns cannot be used: EventBridge cannot publish to topics encrypted with it."
  default     = null

  validation {
    condition     = var.sns_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.sns_kms_key_arn))
    error_message = "sns_kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>) or null; aliases and the AWS managed aws/sns key are not accepted."
  }
}

variable "kms_key_deletion_window_days" {
  type        = number
  description = "Waiting period (7-30 days) before the created topic key is deleted after terraform destroy."
  default     = 30

  validation {
    condition     = var.kms_key_deletion_window_days >= 7 && var.kms_key_deletion_window_days <= 30 && floor(var.kms_key_deletion_window_days) == var.kms_key_deletion_window_days
    error_message = "kms_key_deletion_window_days must be a whole number from 7 to 30."
  }
}

variable "automatic_remediation" {
  type        = bool
  description = "Let AWS Config run the remediation on every NON_COMPLIANT managed node by itself. Off by default: operators start remediation from the Config console or API, so nothing is patched without a decision."
  default     = false
}

variable "maximum_automatic_attempts" {
  type        = number
  description = "Automatic remediation: attempts per non-compliant resource within retry_attempt_seconds (1-25)."
  default     = 3

  validation {
    condition     = var.maximum_automatic_attempts >= 1 && var.maximum_automatic_attempts <= 25 && floor(var.maximum_automatic_attempts) == var.maximum_automatic_attempts
    error_message = "maximum_automatic_attempts must be a whole number from 1 to 25."
  }
}

variable "retry_attempt_seconds" {
  type        = number
  description = "Automatic remediation: window in seconds in which maximum_automatic_attempts are made (1-2678000, i.e. up to 31 days)."
  default     = 3600

  validation {
    condition     = var.retry_attempt_seconds >= 1 && var.retry_attempt_seconds <= 2678000 && floor(var.retry_attempt_seconds) == var.retry_attempt_seconds
    error_message = "retry_attempt_seconds must be a whole number from 1 to 2678000."
  }
}

variable "remediation_concurrency_percentage" {
  type        = number
  description = "Rate control of remediation: maximum percentage (1-100) of non-compliant resources remediated at the same time."
  default     = 10

  validation {
    condition     = var.remediation_concurrency_percentage >= 1 && var.remediation_concurrency_percentage <= 100 && floor(var.remediation_concurrency_percentage) == var.remediation_concurrency_percentage
    error_message = "remediation_concurrency_percentage must be a whole number from 1 to 100."
  }
}

variable "remediation_error_percentage" {
  type        = number
  description = "Rate control of remediation: percentage (1-100) of failed remediations after which the rest are stopped."
  default     = 10

  validation {
    condition     = var.remediation_error_percentage >= 1 && var.remediation_error_percentage <= 100 && floor(var.remediation_error_percentage) == var.remediation_error_percentage
    error_message = "remediation_error_percentage must be a whole number from 1 to 100."
  }
}

variable "patch_operation" {
  type        = string
  description = "AWS-RunPatchBaseline operation of the patch remediation: \"Install\" installs the missing approved patches, \"Scan\" only refreshes the compliance data."
  default     = "Install"

  validation {
    condition     = contains(["Install", "Scan"], var.patch_operation)
    error_message = "patch_operation must be \"Install\" or \"Scan\"."
  }
}

variable "reboot_option" {
  type        = string
  description = "AWS-RunPatchBaseline reboot option of the patch remediation: \"NoReboot\" (default; patches needing a reboot stay pending until the next maintenance reboot) or \"RebootIfNeeded\"."
  default     = "NoReboot"

  validation {
    condition     = contains(["NoReboot", "RebootIfNeeded"], var.reboot_option)
    error_message = "reboot_option must be \"NoReboot\" or \"RebootIfNeeded\"."
  }
}

variable "command_timeout_seconds" {
  type        = number
  description = "How long (60-172800 seconds) the remediation waits for the Run Command on the managed node."
  default     = 7200

  validation {
    condition     = var.command_timeout_seconds >= 60 && var.command_timeout_seconds <= 172800 && floor(var.command_timeout_seconds) == var.command_timeout_seconds
    error_message = "command_timeout_seconds must be a whole number from 60 to 172800."
  }
}

variable "command_output_bucket_name" {
  type        = string
  description = "Bucket receiving the remediation commands' output (e.g. the patch-baseline log bucket); null keeps output in Run Command only. The managed nodes' instance profile must be allowed to write there."
  default     = null

  validation {
    condition     = var.command_output_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.command_output_bucket_name))
    error_message = "command_output_bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens) or null."
  }
}

variable "command_output_key_prefix" {
  type        = string
  description = "Key prefix of the remediation commands' output in command_output_bucket_name."
  default     = "remediation"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$", var.command_output_key_prefix))
    error_message = "command_output_key_prefix must be letters, digits and !_.*'()- separated by single slashes, without a leading or trailing slash."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every taggable resource."
  default     = {}
}

variable "alarm_name_prefixes" {
  type        = list(string)
  description = "Name prefixes of CloudWatch alarms of this account and Region that may notify the compliance topic (e.g. the patch janitor and skipped-instances alarms, \"<name_prefix>-patch-\"). Each adds cloudwatch.amazonaws.com to the topic policy and, when the module creates the key, to the key policy (kms:Decrypt, kms:GenerateDataKey*), conditioned on aws:SourceAccount and aws:SourceArn = arn:<partition>:cloudwatch:<region>:<account>:alarm:<prefix>*. With sns_kms_key_arn, that key's policy must allow CloudWatch itself. Empty: no alarm may publish."
  default     = []

  validation {
    # Alarm names: 1-255 characters, no control characters; a prefix here also excludes the
    # wildcard characters * and ? (they would widen the ArnLike condition).
    condition     = alltrue([for p in var.alarm_name_prefixes : length(p) >= 1 && length(p) <= 255 && can(regex("^[^*?\\x00-\\x1f]+$", p))])
    error_message = "alarm_name_prefixes must be 1-255 characters each, without * or ? or control characters."
  }
}
