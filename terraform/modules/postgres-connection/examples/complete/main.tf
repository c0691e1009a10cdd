# Runnable example: `blocks terraform install`, export the printed TF_CLI_CONFIG_FILE, then
# terraform init && terraform apply (offline: nothing connects to the database). The password
# is generated and stored encrypted; Terraform state holds only fingerprints.
terraform {
  required_providers {
    blocks = { source = "blocks-registry/blocks" }
  }
}

provider "blocks" {}

module "app_db" {
  source = "../.."

  name     = "app-db"
  host     = "db.internal"
  database = "app"
  username = "app"

  password_keepers = { rotation = "2026-q4" }
}

output "credentials_id" {
  value = module.app_db.credentials_id
}

output "password_fingerprint" {
  value = module.app_db.password_fingerprint
}
