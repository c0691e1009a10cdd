terraform {
  required_providers {
    blocks = { source = "blocks-registry/blocks" }
  }
}

variable "vault_addr" {
  description = "Vault or OpenBao address"
  type        = string
  default     = "https://vault.internal:8200"
}

provider "blocks" {
  key_provider        = "vault-transit"
  vault_addr          = var.vault_addr
  vault_transit_mount = "transit"
  vault_transit_key   = "blocks" # token: VAULT_TOKEN (or vault_role_id / vault_secret_id)
}
