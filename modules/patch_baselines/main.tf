locals {
  # One list of patch filters per approval rule; empty inputs add no filter. Each key appears at
  # most once and a rule has at most 4 filters (PRODUCT, CLASSIFICATION, the severity key of
  # rules.tf, PATCH_SET), within PatchFilterGroup's limit of local.max_filters_per_rule.
  approval_rules = {
    for group, g in var.patch_groups : group => [
      for r in g.approval_rules : merge(r, {
        filters = concat(
          length(r.products) > 0 ? [{ key = "PRODUCT", values = r.products }] : [],
          length(r.classifications) > 0 ? [{ key = "CLASSIFICATION", values = r.classifications }] : [],
          length(r.severities) > 0 ? [{ key = local.patch_os_rules[g.operating_system].severity_key, values = r.severities }] : [],
          r.patch_set == null ? [] : [{ key = "PATCH_SET", values = [r.patch_set] }],
        )
      })
    ]
  }
}

resource "aws_ssm_patch_baseline" "this" {
  for_each = var.patch_groups

  name             = "${var.name_prefix}-${each.key}"
  description      = coalesce(each.value.description, "fleetpatch patch baseline of patch group ${each.key} (${each.value.operating_system})")
  operating_system = each.value.operating_system

  approved_patches                     = each.value.approved_patches
  approved_patches_compliance_level    = each.value.approved_patches_compliance_level
  approved_patches_enable_non_security = each.value.operating_system == "WINDOWS" ? null : each.value.approved_patches_enable_non_security
  rejected_patches                     = each.value.rejected_patches
  rejected_patches_action              = each.value.rejected_patches_action

  dynamic "approval_rule" {
    for_each = local.approval_rules[each.key]
    content {
      approve_after_days  = approval_rule.value.approve_after_days
      approve_until_date  = approval_rule.value.approve_until_date
      compliance_level    = approval_rule.value.compliance_level
      enable_non_security = each.value.operating_system == "WINDOWS" ? null : approval_rule.value.enable_non_security

      dynamic "patch_filter" {
        for_each = approval_rule.value.filters
        content {
          key    = patch_filter.value.key
          values = patch_filter.value.values
        }
      }
    }
  }

  tags = merge(var.tags, { (var.patch_group_tag_key) = each.key })
}

# Registers each baseline for its patch group: AWS-RunPatchBaseline on a managed node tagged
# <patch_group_tag_key> = <group> uses this baseline instead of the operating system's default.
resource "aws_ssm_patch_group" "this" {
  for_each = aws_ssm_patch_baseline.this

  baseline_id = each.value.id
  patch_group = each.key
}

# The managed nodes of each patch group, by tag (the seed's "Patch Group A/B/C" Resource Groups).
resource "aws_resourcegroups_group" "this" {
  for_each = var.create_resource_groups ? var.patch_groups : {}

  name = "${var.name_prefix}-${each.key}"
  # Resource Groups allows only [\sa-zA-Z0-9_.-] in a description.
  description = "Managed nodes of patch group ${each.key}"

  resource_query {
    type = "TAG_FILTERS_1_0"
    query = jsonencode({
      ResourceTypeFilters = var.resource_group_resource_types
      TagFilters = [{
        Key    = var.patch_group_tag_key
        Values = [each.key]
      }]
    })
  }

  tags = merge(var.tags, { (var.patch_group_tag_key) = each.key })
}
