variable "name_prefix" {
  type        = string
  description = "Prefix of the service role name (<prefix>-ssm-hybrid-node). Lowercase letters, digits and hyphens; 3-40 characters."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-40 characters of lowercase letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "registration_limit" {
  type        = number
  description = "Without patch_groups: maximum number of managed nodes (mi-) that can register with the single activation (1-1000)."
  default     = 100

  validation {
    condition     = var.registration_limit >= 1 && var.registration_limit <= 1000 && floor(var.registration_limit) == var.registration_limit
    error_message = "registration_limit must be a whole number from 1 to 1000."
  }
}

variable "expiration_date" {
  type        = string
  description = "Fixed expiry of the activation(s), an RFC3339 timestamp at most 30 days after the plan (e.g. \"2026-12-24T00:00:00Z\"); null (default) rotates instead: each activation expires validity_days after its creation and is replaced every rotate_after_days. A past date is accepted so plans keep working once a fixed-date activation has expired (registered nodes keep working)."
  default     = null

  validation {
    condition     = var.expiration_date == null || can(formatdate("YYYY-MM-DD", coalesce(var.expiration_date, "x")))
    error_message = "expiration_date must be an RFC3339 timestamp such as \"2026-12-24T00:00:00Z\", or null (rotation)."
  }

  validation {
    # CreateActivation ExpirationDate: "You can specify a date up to 30 days in advance."
    # try(): a malformed timestamp is reported by the format check above, not twice.
    condition     = var.expiration_date == null || try(timecmp(var.expiration_date, timeadd(plantimestamp(), "720h")) <= 0, true)
    error_message = "expiration_date must be at most 30 days (720h) after the plan: SSM rejects activations that expire later."
  }
}

variable "patch_groups" {
  type = map(object({
    registration_limit = optional(number, 100)
    description        = optional(string)
    tags               = optional(map(string), {})
  }))
  description = "One hybrid activation per patch group, key = patch group (the value of the patch_group_tag_key tag the activation gives every node registering with it). tags: further tags of that activation, and so of its nodes, e.g. { \"fleetpatch:source\" = \"azure\" } on the Azure groups, the marker modules/ssm_tag_sync_role's role requires (aws:ResourceTag) before it reads or tags a node. Empty (default): one untagged activation, as in earlier versions, with registration_limit and description."
  default     = {}

  validation {
    # Patch group names of modules/member_region; SSM tag values: up to 256 characters of
    # letters, digits, spaces and _.:/=+-@.
    condition     = alltrue([for g in keys(var.patch_groups) : can(regex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$", g))])
    error_message = "patch_groups keys must be patch group names: 1-32 letters, digits, dots, underscores and hyphens, starting with a letter or digit."
  }

  validation {
    # Activation RegistrationLimit: valid range 1-1000.
    condition     = alltrue([for g in values(var.patch_groups) : g.registration_limit >= 1 && g.registration_limit <= 1000 && floor(g.registration_limit) == g.registration_limit])
    error_message = "each patch group's registration_limit must be a whole number from 1 to 1000."
  }

  validation {
    condition     = alltrue([for g in values(var.patch_groups) : g.description == null ? true : length(g.description) <= 256])
    error_message = "each patch group's description must be at most 256 characters."
  }

  validation {
    # SSM tags: keys 1-128 characters not starting with aws:, values at most 256; the patch group
    # key is set by the module. CreateActivation: at most 50 tags per resource (AddTagsToResource).
    condition     = alltrue([for g in values(var.patch_groups) : alltrue([for k, v in g.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:") && !contains(["patchgroup", "patch group"], lower(k))])])
    error_message = "patch_groups tags keys must be 1-128 characters, not aws:-prefixed and not a patch group key (the module sets that one), values at most 256 characters."
  }
}

variable "patch_group_tag_key" {
  type        = string
  description = "Tag key that puts a managed node into a patch group, set on each patch group's activation: \"PatchGroup\" (default) or \"Patch Group\"."
  default     = "PatchGroup"

  validation {
    condition     = contains(["PatchGroup", "Patch Group"], var.patch_group_tag_key)
    error_message = "patch_group_tag_key must be \"PatchGroup\" or \"Patch Group\": Patch Manager recognises only these two keys."
  }
}

variable "validity_days" {
  type        = number
  description = "With rotation (expiration_date = null): days a new activation accepts registrations (1-30; CreateActivation allows at most 30 days ahead)."
  default     = 30

  validation {
    condition     = var.validity_days >= 1 && var.validity_days <= 30 && floor(var.validity_days) == var.validity_days
    error_message = "validity_days must be a whole number from 1 to 30."
  }
}

variable "rotate_after_days" {
  type        = number
  description = "With rotation: length of a rotation period in days; the activations are replaced at the first plan/apply of each new period. Must be at most half of validity_days, so that applied once per period an activation always has time left."
  default     = 14

  validation {
    condition     = var.rotate_after_days >= 1 && floor(var.rotate_after_days) == var.rotate_after_days && var.rotate_after_days * 2 <= var.validity_days
    error_message = "rotate_after_days must be a whole number from 1 to validity_days / 2."
  }
}

variable "warn_before_expiry_days" {
  type        = number
  description = "The plan warns (check block hybrid_activation_capacity) when an activation expires within this many days (0-30)."
  default     = 7

  validation {
    condition     = var.warn_before_expiry_days >= 0 && var.warn_before_expiry_days <= 30 && floor(var.warn_before_expiry_days) == var.warn_before_expiry_days
    error_message = "warn_before_expiry_days must be a whole number from 0 to 30."
  }
}

variable "warn_registration_percent" {
  type        = number
  description = "The plan warns when an activation's registrations reach this percentage of its registration limit (1-100)."
  default     = 90

  validation {
    condition     = var.warn_registration_percent >= 1 && var.warn_registration_percent <= 100 && floor(var.warn_registration_percent) == var.warn_registration_percent
    error_message = "warn_registration_percent must be a whole number from 1 to 100."
  }
}

variable "default_instance_name" {
  type        = string
  description = "Default name of the managed nodes registered with this activation (shown in Fleet Manager until changed)."
  default     = "fleetpatch-hybrid-node"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{1,256}$", var.default_instance_name))
    error_message = "default_instance_name must be 1-256 letters, digits, underscores, dots or hyphens."
  }
}

variable "description" {
  type        = string
  description = "Without patch_groups: description of the single activation (at most 256 characters)."
  default     = "fleetpatch: Azure and on-premises managed nodes"

  validation {
    condition     = length(var.description) <= 256
    error_message = "description must be at most 256 characters."
  }
}

variable "role_path" {
  type        = string
  description = "IAM path of the service role, e.g. \"/\" or \"/fleetpatch/\"."
  default     = "/"

  validation {
    condition     = can(regex("^/([A-Za-z0-9+=,.@_-]+/)*$", var.role_path))
    error_message = "role_path must start and end with \"/\" and contain only letters, digits and +=,.@_- between slashes."
  }
}

variable "permissions_boundary_arn" {
  type        = string
  description = "ARN of an IAM managed policy used as permissions boundary of the service role; null sets none."
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be an IAM policy ARN (arn:<partition>:iam::<account>:policy/<name>) or null."
  }
}

variable "node_policy" {
  type        = string
  description = "Permissions of the service role the hybrid nodes act with: \"fleetpatch\" (default) an inline policy with exactly the SSM core actions (register, command channels, associations, patching, inventory); \"aws_managed\" AmazonSSMManagedInstanceCore, which also grants ssm:GetParameter(s) on every parameter of the account."
  default     = "fleetpatch"

  validation {
    condition     = contains(["fleetpatch", "aws_managed"], var.node_policy)
    error_message = "node_policy must be \"fleetpatch\" (least privilege) or \"aws_managed\" (AmazonSSMManagedInstanceCore)."
  }
}

variable "additional_policy_arns" {
  type        = list(string)
  description = "Further IAM managed policy ARNs attached to the service role, e.g. one allowing s3:PutObject to the patch-baseline log bucket (node_policy grants the SSM core actions only)."
  default     = []

  validation {
    condition     = alltrue([for a in var.additional_policy_arns : can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", a))])
    error_message = "additional_policy_arns must be IAM policy ARNs (arn:<partition>:iam::<account or aws>:policy/<name>)."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to the service role and the activations. Activation tags are applied to every node that registers with it (CreateActivation), so these tags also land on the managed nodes."
  default     = {}
}
