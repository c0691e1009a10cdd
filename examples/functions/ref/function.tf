# Terraform >= 1.8. The id of a block managed outside this configuration (here credentials
# another team owns), for nested-block attributes. For a block declared in this configuration
# use its `id` attribute instead, so Terraform creates it first.
resource "blocks_s3_bucket" "raw" {
  name        = "raw"
  bucket_name = "acme-raw"
  credentials = provider::blocks::ref("aws-credentials", "prod") # "aws-credentials/prod"
}
