# Runnable example: `blocks terraform install`, export the printed TF_CLI_CONFIG_FILE, then
# terraform init && terraform apply (offline).
terraform {
  required_providers {
    blocks = { source = "blocks-registry/blocks" }
  }
}

provider "blocks" {}

# A generated secret the flow runs get as an environment variable: the pool stores only the
# placeholder, resolved when a run starts.
resource "blocks_secret" "db_password" {
  name = "etl-db-password"
  generate {
    length = 32
  }
}

module "etl_pool" {
  source = "../.."

  name              = "nightly-etl"
  type              = "kubernetes"
  description       = "Nightly ETL"
  concurrency_limit = 10

  image     = "ghcr.io/acme/flows:1.4"
  namespace = "etl"
  cpu       = "500m"
  memory    = "1Gi"
  env = {
    LOG_LEVEL   = "info"
    DB_PASSWORD = blocks_secret.db_password.placeholder
  }

  queues = {
    critical = { priority = 1, concurrency_limit = 2 }
    backfill = { priority = 5, concurrency_limit = null }
  }
  queue_settings = {
    backfill = { description = "Re-runs of past days", paused = true }
  }
}

output "pool_id" {
  value = module.etl_pool.id
}

output "queues" {
  value = module.etl_pool.queue_ids
}
