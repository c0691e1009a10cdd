terraform {
  required_providers {
    blocks = { source = "blocks-registry/blocks" }
  }
}

variable "database_url" {
  description = "postgresql+psycopg://blocks_registry@db.internal:5432/blocks_registry"
  type        = string
  sensitive   = true
}

provider "blocks" {
  database_url = var.database_url
  key_provider = "local"
}
