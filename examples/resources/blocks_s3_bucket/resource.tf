resource "blocks_aws_credentials" "etl" {
  name        = "etl"
  region_name = "eu-west-1" # boto3's default chain supplies the keys
}

resource "blocks_s3_bucket" "lake" {
  name          = "data-lake"
  bucket_name   = "acme-data-lake"
  bucket_folder = "raw"
  credentials   = blocks_aws_credentials.etl.id # a nested block field takes the resource's id
}
