# The blocks and the work pool of the main journey (scripts/demo.sh), published to Prefect.
#
# scripts/demo.sh copies this directory, writes terraform.tfvars (endpoints and names, no
# secrets), sets TF_VAR_prefect_api_url to its local Prefect server and runs
#   terraform init && terraform apply
# offline from the mirror `blocks terraform install` makes. No secret value enters plan or
# state: the S3 secret key comes from a generated blocks_secret, and the database password is
# managed by the rotation declared on its block.
terraform {
  required_version = ">= 1.0"
  required_providers {
    blocks = { source = "blocks-registry/blocks" }
  }
}

variable "prefect_api_url" {
  description = "Prefect server API URL the work pool is published to; null: not published"
  type        = string
  default     = null
}

variable "s3_endpoint_url" {
  description = "S3 endpoint of the lake (the demo's moto server)"
  type        = string
}

variable "bucket_name" {
  description = "Name of the S3 bucket of the lake"
  type        = string
  default     = "demo-lake"
}

variable "postgres" {
  description = "PostgreSQL of the warehouse: admin login and the demo role/database; null: SQLite"
  type = object({
    host           = string
    port           = number
    admin_user     = string
    admin_database = string
    app_user       = string
    app_database   = string
  })
  default = null
}

variable "sqlite_path" {
  description = "SQLite file of the warehouse when postgres is null"
  type        = string
  default     = null
}

variable "pool_name" {
  description = "Name of the process work pool the seed pipeline runs on"
  type        = string
  default     = "demo-process"
}

provider "blocks" {
  prefect_api_url = var.prefect_api_url # the pool below is published there on apply
}

# S3 (moto): a generated secret key, so no secret value is in state.
resource "blocks_secret" "lake_secret_key" {
  name = "lake-secret-key"
  generate {
    length = 40
  }
}

resource "blocks_aws_credentials" "lake" {
  name                              = "lake-writer"
  aws_access_key_id                 = "AKIADEMOLAKEWRITER01"
  aws_secret_access_key_from_secret = blocks_secret.lake_secret_key.id
  aws_secret_access_key_wo_version  = blocks_secret.lake_secret_key.version
  region_name                       = "us-east-1"
  aws_client_parameters = {
    endpoint_url = var.s3_endpoint_url
  }
}

resource "blocks_s3_bucket" "lake" {
  name          = "lake"
  bucket_name   = var.bucket_name
  bucket_folder = "seed"
  credentials   = blocks_aws_credentials.lake.id
}

# The warehouse: a role that the pipeline signs in as, and a separate admin login that the
# postgres-password rotator uses to change that role's password.
resource "blocks_database_credentials" "pg_admin" {
  count    = var.postgres == null ? 0 : 1
  name     = "pg-admin"
  driver   = "postgresql+psycopg"
  host     = var.postgres.host
  port     = var.postgres.port
  database = var.postgres.admin_database
  username = var.postgres.admin_user
}

resource "blocks_database_credentials" "warehouse" {
  name     = "warehouse"
  driver   = var.postgres == null ? "sqlite" : "postgresql+psycopg"
  host     = var.postgres == null ? null : var.postgres.host
  port     = var.postgres == null ? null : var.postgres.port
  database = var.postgres == null ? var.sqlite_path : var.postgres.app_database
  username = var.postgres == null ? null : var.postgres.app_user

  # The password is managed by rotation (never in plan or state): the first `blocks rotate`
  # sets it on PostgreSQL through the admin login, and every rotation after that leaves the
  # plan empty.
  dynamic "rotation" {
    for_each = var.postgres == null ? [] : [1]
    content {
      rotator = "postgres-password"
      every   = "30d"
      grace   = "1h"
      options = jsonencode({ admin_block = blocks_database_credentials.pg_admin[0].id })
    }
  }
}

# A rotation policy declared here: `blocks rotate --due` rotates the token every 30 days, and
# the plan stays empty afterwards.
resource "blocks_secret" "api_token" {
  name = "api-token"
  generate {
    length = 40
  }
  rotation {
    every = "30d"
    grace = "1d"
  }
}

resource "blocks_work_pool" "demo" {
  name              = var.pool_name
  type              = "process"
  description       = "Runs the seed pipeline (examples/pipeline/flow.py) on this machine"
  concurrency_limit = 2
}

output "pool" {
  value = blocks_work_pool.demo.name
}

output "blocks" {
  value = concat(
    [blocks_s3_bucket.lake.id, blocks_aws_credentials.lake.id, blocks_database_credentials.warehouse.id],
    blocks_database_credentials.pg_admin[*].id,
    [blocks_secret.api_token.id, blocks_secret.lake_secret_key.id],
  )
}
