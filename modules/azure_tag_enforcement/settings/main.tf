# Provider-free, so that Terraform can render the settings here and the Python settings parser
# (azure_function/fleetpatch_tags/config.py) can be tested on exactly what Terraform produces.
locals {
  hour_minute = split(":", var.daily_run_time_utc)

  # Rules are JSON objects of two shapes; built as text so that both shapes fit one expression.
  # Terraform maps iterate in name order, so tags are added in name order.
  required_tags_json = "{${join(",", [
    for name, rule in var.required_tags : "${jsonencode(name)}:${rule.value != null ? jsonencode({ value = rule.value }) : jsonencode({
      from                                                                                               = rule.from
      values                                                                                             = rule.values
      resource_group_overrides                                                                           = rule.resource_group_overrides
    })}"
  ])}}"
}
