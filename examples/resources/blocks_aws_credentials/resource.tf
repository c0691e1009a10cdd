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
