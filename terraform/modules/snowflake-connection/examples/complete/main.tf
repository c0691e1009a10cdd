# Runnable example: `blocks terraform install`, export the printed TF_CLI_CONFIG_FILE, then
# TF_VAR_snowflake_password=... terraform init && terraform apply (offline: blocks are only
# written to the registry; nothing connects to Snowflake).
terraform {
  required_providers {
    blocks = { source = "blocks-registry/blocks" }
  }
}

provider "blocks" {}

variable "snowflake_password" {
  description = "Password of the etl user (held in state, sensitive)."
  type        = string
  sensitive   = true
}

module "warehouse" {
  source = "../.."

  name      = "warehouse"
  account   = "nh12345.us-east-2.aws"
  user      = "etl"
  password  = var.snowflake_password
  role      = "loader"
  database  = "raw"
  warehouse = "load_wh"
}

output "connector_id" {
  value = module.warehouse.connector_id
}
