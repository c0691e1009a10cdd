output "credentials_id" {
  description = "Id (aws-credentials/<name>) of the credentials block, for credentials attributes elsewhere."
  value       = blocks_aws_credentials.this.id
}

output "credentials_placeholder" {
  description = "Placeholder naming the credentials block in work-pool templates."
  value       = blocks_aws_credentials.this.placeholder
}

output "bucket_ids" {
  description = "Ids (s3-bucket/<name>) of the bucket blocks, by block name."
  value       = { for name, b in blocks_s3_bucket.this : name => b.id }
}

output "bucket_placeholders" {
  description = "Placeholders ({{ blocks.s3-bucket.<name> }}) of the bucket blocks, by block name, for work-pool templates and env."
  value       = { for name, b in blocks_s3_bucket.this : name => b.placeholder }
}
