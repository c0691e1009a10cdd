terraform {
  required_version = ">= 1.0"

  required_providers {
    blocks = {
      source  = "blocks-registry/blocks"
      version = ">= 0.1.0"
    }
  }
}
