# Non-secret fields and version; secret fields read as "********".
data "blocks_block" "lake" {
  type = "s3-bucket"
  name = "data-lake"
}

output "lake_bucket" {
  value = jsondecode(data.blocks_block.lake.data).bucket_name
}
