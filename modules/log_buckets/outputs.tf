output "bucket_names" {
  description = "Map of log bucket purpose (\"patch-baseline-logs\", \"inventory\") to bucket name."
  value       = { for k, b in aws_s3_bucket.this : k => b.bucket }
}

output "bucket_arns" {
  description = "Map of log bucket purpose to bucket ARN."
  value       = { for k, b in aws_s3_bucket.this : k => b.arn }
}

output "patch_baseline_bucket" {
  description = "Name of the patch-baseline log bucket, or null when it is not created."
  value       = try(aws_s3_bucket.this["patch-baseline-logs"].bucket, null)
}

output "inventory_bucket" {
  description = "Name of the inventory bucket, or null when it is not created."
  value       = try(aws_s3_bucket.this["inventory"].bucket, null)
}
