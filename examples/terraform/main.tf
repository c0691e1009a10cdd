# The Terraform journey: typed blocks, a generated secret and a work pool, offline.
#
#   blocks terraform install                 # mirror + CLI config; prints the export below
#   export TF_CLI_CONFIG_FILE=~/.blocks/terraform/terraform.rc
#   terraform init && terraform apply
#   blocks ls                                # the blocks are in the registry
terraform {
  required_providers {
    blocks = { source = "blocks-registry/blocks" }
  }
}

provider "blocks" {} # BLOCKS_HOME / BLOCKS_DATABASE_URL / key settings as for the CLI

resource "blocks_secret" "warehouse_password" {
  name = "warehouse-password"
  generate {
    length = 32
  }
}

resource "blocks_aws_credentials" "etl" {
  name        = "etl"
  region_name = "eu-west-1"
}

resource "blocks_s3_bucket" "lake" {
  name          = "data-lake"
  bucket_name   = "acme-data-lake"
  bucket_folder = "raw"
  credentials   = blocks_aws_credentials.etl.id
}

resource "blocks_github_repository" "flows" {
  name           = "flows"
  repository_url = "https://github.com/acme/flows.git"
  reference      = "main"
}

module "etl_pool" {
  source = "../../terraform/modules/work-pool"

  name              = "etl"
  type              = "kubernetes"
  concurrency_limit = 10
  queues = {
    critical = { priority = 1, concurrency_limit = 2 }
  }
}

data "blocks_block" "lake" {
  type = "s3-bucket"
  name = blocks_s3_bucket.lake.name
}

output "lake" {
  value = jsondecode(data.blocks_block.lake.data)
}

output "warehouse_password_fingerprint" {
  value = blocks_secret.warehouse_password.fingerprint
}

output "etl_queues" {
  value = module.etl_pool.queue_ids
}
