terraform {
  required_providers {
    blocks = { source = "blocks-registry/blocks" }
  }
}

variable "kms_key_id" {
  description = "The registry's master key: key id, alias/name or ARN"
  type        = string
  default     = "alias/blocks"
}

provider "blocks" {
  key_provider = "aws-kms"
  kms_key_id   = var.kms_key_id
  aws_region   = "eu-west-1" # credentials: the usual AWS chain (env, profile, role)
}
