# Every AWS credentials block in the registry, by name (metadata only, never field values).
data "blocks_blocks" "aws" {
  type = "aws-credentials"
}

# One bucket block per credentials block, whoever created them.
resource "blocks_s3_bucket" "per_account" {
  for_each    = data.blocks_blocks.aws.blocks
  name        = "lake-${each.key}"
  bucket_name = "acme-lake-${each.key}"
  credentials = each.value.id
}
