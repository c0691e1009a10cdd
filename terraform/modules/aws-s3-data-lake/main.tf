resource "blocks_aws_credentials" "this" {
  name                  = var.name
  region_name           = var.region
  aws_access_key_id     = var.access_key_id
  aws_secret_access_key = var.secret_access_key
  role_arn              = var.role_arn
  role_session_name     = var.role_session_name
  external_id           = var.external_id
}

resource "blocks_s3_bucket" "this" {
  for_each = var.buckets

  name          = each.key
  bucket_name   = each.value.bucket_name
  bucket_folder = each.value.folder
  credentials   = blocks_aws_credentials.this.id
}
