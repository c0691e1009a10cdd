# Runnable example: `blocks terraform install`, export the printed TF_CLI_CONFIG_FILE, then
# terraform init && terraform apply (offline).
terraform {
  required_providers {
    blocks = { source = "blocks-registry/blocks" }
  }
}

provider "blocks" {}

module "etl_pool" {
  source = "../.."

  name              = "etl"
  type              = "kubernetes"
  description       = "Nightly ETL"
  concurrency_limit = 10

  queues = {
    critical = { priority = 1, concurrency_limit = 2 }
    backfill = { priority = 5, concurrency_limit = null }
  }
}

output "queues" {
  value = module.etl_pool.queue_ids
}
