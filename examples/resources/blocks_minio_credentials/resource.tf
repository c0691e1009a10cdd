variable "minio_root_password" {
  type      = string
  sensitive = true
}

resource "blocks_minio_credentials" "lake" {
  name                  = "minio-lake"
  minio_root_user       = "admin"
  minio_root_password   = var.minio_root_password
  aws_client_parameters = { endpoint_url = "http://minio.internal:9000" }
}
