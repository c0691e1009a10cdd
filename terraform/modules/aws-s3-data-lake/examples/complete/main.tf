# Runnable example: `blocks terraform install`, export the printed TF_CLI_CONFIG_FILE, then
# terraform init && terraform apply (offline: blocks are only written to the registry).
terraform {
  required_providers {
    blocks = { source = "blocks-registry/blocks" }
  }
}

provider "blocks" {}

module "lake" {
  source = "../.."

  name              = "lake-loader"
  region            = "eu-west-1"
  role_arn          = "arn:aws:iam::123456789012:role/lake-loader"
  role_session_name = "lake-loader"

  buckets = {
    raw     = { bucket_name = "acme-lake-raw", folder = "" }
    curated = { bucket_name = "acme-lake-curated", folder = "v1" }
  }
}

output "bucket_ids" {
  value = module.lake.bucket_ids
}

output "credentials_id" {
  value = module.lake.credentials_id
}
