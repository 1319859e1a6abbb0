# Names only: no provider, no resources. The seed names every per-region resource
# <account>-<region city>-..., e.g. ss-oregon-patch-baseline-logs or sec-virginia-ssm-data-sync.

locals {
  builtin_region_short_names = {
    "us-east-1"      = "virginia"
    "us-east-2"      = "ohio"
    "us-west-1"      = "california"
    "us-west-2"      = "oregon"
    "ca-central-1"   = "canada"
    "ca-west-1"      = "calgary"
    "sa-east-1"      = "saopaulo"
    "eu-west-1"      = "ireland"
    "eu-west-2"      = "london"
    "eu-west-3"      = "paris"
    "eu-central-1"   = "frankfurt"
    "eu-central-2"   = "zurich"
    "eu-north-1"     = "stockholm"
    "eu-south-1"     = "milan"
    "eu-south-2"     = "spain"
    "af-south-1"     = "capetown"
    "il-central-1"   = "telaviv"
    "me-south-1"     = "bahrain"
    "me-central-1"   = "uae"
    "ap-east-1"      = "hongkong"
    "ap-south-1"     = "mumbai"
    "ap-south-2"     = "hyderabad"
    "ap-northeast-1" = "tokyo"
    "ap-northeast-2" = "seoul"
    "ap-northeast-3" = "osaka"
    "ap-southeast-1" = "singapore"
    "ap-southeast-2" = "sydney"
    "ap-southeast-3" = "jakarta"
    "ap-southeast-4" = "melbourne"
    "us-gov-west-1"  = "govwest"
    "us-gov-east-1"  = "goveast"
  }

  short_names = merge(local.builtin_region_short_names, var.region_short_names)

  region_short_names = { for r in var.regions : r => lookup(local.short_names, r, replace(r, "-", "")) }
  name_prefixes      = { for r, n in local.region_short_names : r => "${var.account_short_name}-${n}" }
}
