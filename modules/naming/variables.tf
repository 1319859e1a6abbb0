variable "account_short_name" {
  type        = string
  description = "Short name of the account that starts every name prefix, e.g. \"ss\" (shared services), \"tc\" (application), \"sec\" (security). 2-8 lowercase letters and digits, starting with a letter; not starting with aws, amazon or amzn."

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,7}$", var.account_short_name)) && !can(regex("^(aws|amazon|amzn)", var.account_short_name))
    error_message = "account_short_name must be 2-8 lowercase letters and digits starting with a letter (e.g. \"ss\", \"tc\", \"sec\") and must not start with aws, amazon or amzn (reserved SSM document and Resource Group prefixes)."
  }
}

variable "regions" {
  type        = list(string)
  description = "AWS Region codes to name, e.g. [\"us-west-2\", \"eu-west-2\"]."

  validation {
    condition     = length(var.regions) > 0 && length(distinct(var.regions)) == length(var.regions) && alltrue([for r in var.regions : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", r))])
    error_message = "regions must be a non-empty list of distinct AWS Region codes such as \"us-west-2\" or \"eu-west-2\"."
  }
}

variable "region_short_names" {
  type        = map(string)
  description = "Short names that replace or extend the built-in Region short names (us-west-2 = oregon, eu-west-2 = london, us-east-1 = virginia, ...), keyed by Region code. 2-15 lowercase letters and digits each. A Region with no short name is named by its code without hyphens (e.g. apsoutheast5)."
  default     = {}

  validation {
    condition     = alltrue([for r, n in var.region_short_names : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", r)) && can(regex("^[a-z0-9]{2,15}$", n))])
    error_message = "region_short_names must map AWS Region codes (e.g. \"us-west-2\") to 2-15 lowercase letters and digits (e.g. \"oregon\")."
  }
}
