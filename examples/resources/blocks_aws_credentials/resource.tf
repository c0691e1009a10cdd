variable "aws_secret_access_key" {
  type      = string
  sensitive = true
}

resource "blocks_aws_credentials" "etl" {
  name                  = "etl"
  aws_access_key_id     = "AKIAIOSFODNN7EXAMPLE"
  aws_secret_access_key = var.aws_secret_access_key
  region_name           = "eu-west-1"
}

# An S3-compatible store (MinIO, LocalStack): set only what differs, the rest keeps its default.
resource "blocks_aws_credentials" "minio" {
  name                  = "minio"
  aws_access_key_id     = "minio-access"
  aws_secret_access_key = var.aws_secret_access_key
  aws_client_parameters = { endpoint_url = "http://127.0.0.1:9000" }
}

# An IAM user's key pair rotated by Blocks: a second key is created and tested with STS, then
# the old one is deactivated and deleted after the grace. The configured pair is only the first
# one; later pairs are never in state (rotation_fingerprint tracks them) and leave no diff.
resource "blocks_aws_credentials" "deployer" {
  name                  = "deployer"
  aws_access_key_id     = "AKIAIOSFODNN7EXAMPL2"
  aws_secret_access_key = var.aws_secret_access_key
  region_name           = "eu-west-1"
  rotation {
    rotator = "aws-iam-access-key"
    every   = "90d"
    grace   = "1d"
  }
}
