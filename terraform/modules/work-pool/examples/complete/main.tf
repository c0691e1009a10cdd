# Runnable example: `blocks terraform install`, export the printed TF_CLI_CONFIG_FILE, then
# terraform init && terraform apply (offline).
terraform {
  required_providers {
    blocks = { source = "blocks-registry/blocks" }
  }
}

provider "blocks" {}

# The README's usage, runnable: a pool that publishes to Prefect as it is (no secret in it).
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
  # What each flow run needs to load its blocks itself (docs/prefect-deployments.md): where
  # the registry is and which master key opens it. No secret: the database user has no
  # password here (PGPASSFILE / IAM), and the key never leaves KMS.
  env = {
    LOG_LEVEL           = "info"
    BLOCKS_DATABASE_URL = "postgresql+psycopg://etl_runs@blocks-db.internal:5432/blocks"
    BLOCKS_KEY_PROVIDER = "aws-kms"
    BLOCKS_KMS_KEY_ID   = "alias/blocks"
    AWS_REGION          = "eu-west-1"
  }

  default_queue_priority = 2
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
