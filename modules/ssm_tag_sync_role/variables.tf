variable "name_prefix" {
  type        = string
  description = "Prefix of the role name (<prefix>-ssm-tag-sync). Lowercase letters, digits and hyphens; 3-40 characters."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-40 characters of lowercase letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "tenant_id" {
  type        = string
  description = "Microsoft Entra ID (Azure AD) tenant id (a GUID) whose managed identity tokens the role trusts."

  validation {
    condition     = can(regex("^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$", var.tenant_id))
    error_message = "tenant_id must be a GUID such as \"72f988bf-86f1-41af-91ab-2d7cd011db47\"."
  }
}

variable "token_version" {
  type        = string
  description = "Version of the Entra access tokens the managed identity presents, which fixes their issuer: \"v1\" (iss https://sts.windows.net/<tenant>/, the default for tokens requested for an app ID URI such as api://AzureADTokenExchange) or \"v2\" (iss https://login.microsoftonline.com/<tenant>/v2.0, when the audience app sets accessTokenAcceptedVersion = 2)."
  default     = "v1"

  validation {
    condition     = contains(["v1", "v2"], var.token_version)
    error_message = "token_version must be \"v1\" or \"v2\"."
  }
}

variable "managed_identity_principal_ids" {
  type        = list(string)
  description = "Object (principal) ids of the managed identities allowed to assume the role: the Function App's and/or the Automation account's identity. They are the `sub` claim of the identity's tokens."

  validation {
    condition     = length(var.managed_identity_principal_ids) > 0 && length(distinct([for id in var.managed_identity_principal_ids : lower(id)])) == length(var.managed_identity_principal_ids)
    error_message = "managed_identity_principal_ids must hold at least one object id, without duplicates."
  }

  validation {
    condition     = alltrue([for id in var.managed_identity_principal_ids : can(regex("^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$", id))])
    error_message = "managed_identity_principal_ids must be GUIDs (the managed identities' object ids)."
  }
}

variable "audience" {
  type        = string
  description = "Audience (aud claim) of the tokens: the resource/app ID URI the managed identity requests its token for. It is the OIDC provider's client id and the role's <issuer>:aud condition."
  default     = "api://AzureADTokenExchange"

  validation {
    # IAM CreateOpenIDConnectProvider: ClientIDList items are 1-255 characters.
    condition     = length(var.audience) >= 1 && length(var.audience) <= 255 && !can(regex("\\s", var.audience))
    error_message = "audience must be 1-255 characters without spaces (an IAM OIDC provider client id)."
  }
}

variable "tag_key" {
  type        = string
  description = "The one SSM tag key the role may set on managed instances (case-sensitive in SSM), e.g. \"PatchGroup\"."

  validation {
    # SSM Tag.Key: 1-128 characters, pattern ^(?!^(?i)aws:)(?=^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$).*$
    condition     = length(var.tag_key) >= 1 && length(var.tag_key) <= 128 && can(regex("^[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+$", var.tag_key)) && !startswith(lower(var.tag_key), "aws:")
    error_message = "tag_key must be 1-128 letters, digits, spaces and _.:/=+-@, not starting with aws: (SSM tag key rules)."
  }
}

variable "max_session_duration" {
  type        = number
  description = "Maximum session duration of the role in seconds (3600-43200)."
  default     = 3600

  validation {
    condition     = var.max_session_duration >= 3600 && var.max_session_duration <= 43200 && floor(var.max_session_duration) == var.max_session_duration
    error_message = "max_session_duration must be a whole number of seconds from 3600 to 43200."
  }
}

variable "role_path" {
  type        = string
  description = "IAM path of the role, e.g. \"/\" or \"/fleetpatch/\"."
  default     = "/"

  validation {
    condition     = can(regex("^/([A-Za-z0-9+=,.@_-]+/)*$", var.role_path)) && length(var.role_path) <= 512
    error_message = "role_path must start and end with \"/\" and contain only letters, digits and +=,.@_- between slashes (at most 512 characters)."
  }
}

variable "permissions_boundary_arn" {
  type        = string
  description = "ARN of an IAM managed policy used as permissions boundary of the role; null sets none."
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", coalesce(var.permissions_boundary_arn, "-")))
    error_message = "permissions_boundary_arn must be an IAM policy ARN (arn:<partition>:iam::<account>:policy/<name>) or null."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to the OIDC provider and the role."
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "tags keys must be 1-128 characters not starting with aws:, values at most 256 characters."
  }
}

variable "regions" {
  type        = list(string)
  description = "AWS Regions the reconciler reads and tags managed nodes in (where the Azure VMs' activations are); the policy names only these. null (default): the provider's Region."
  default     = null

  validation {
    condition     = var.regions == null || try(length(var.regions) > 0 && alltrue([for r in var.regions : can(regex("^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$", r))]), false)
    error_message = "regions must be null or a non-empty list of AWS Region codes such as us-west-2."
  }
}

variable "source_tag" {
  type = object({
    key   = string
    value = string
  })
  description = "Marker tag that the Azure VMs' hybrid activations carry (and so their nodes: SSM applies activation tags at registration). The role may read and tag only managed nodes with this tag (aws:ResourceTag condition); it can never set it (aws:TagKeys allows only tag_key)."
  default     = { key = "fleetpatch:source", value = "azure" }

  validation {
    # SSM Tag rules: key 1-128, value 0-256, letters, digits, spaces and _.:/=+-@, no aws: prefix.
    condition     = length(var.source_tag.key) >= 1 && length(var.source_tag.key) <= 128 && length(var.source_tag.value) <= 256 && can(regex("^[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+$", var.source_tag.key)) && can(regex("^[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*$", var.source_tag.value)) && !startswith(lower(var.source_tag.key), "aws:")
    error_message = "source_tag key must be 1-128 and value at most 256 letters, digits, spaces and _.:/=+-@, the key not starting with aws: (SSM tag rules)."
  }

  validation {
    condition     = var.source_tag.key != var.tag_key
    error_message = "source_tag.key must differ from tag_key: the reconciler must not be able to set the marker that scopes it."
  }
}
