# Runnable example: `blocks terraform install`, export the printed TF_CLI_CONFIG_FILE, then
# TF_VAR_github_token=... terraform init && terraform apply (offline: nothing is cloned).
terraform {
  required_providers {
    blocks = { source = "blocks-registry/blocks" }
  }
}

provider "blocks" {}

variable "github_token" {
  description = "Token for the private flows repository (held in state, sensitive); null for a public repository."
  type        = string
  default     = null
  sensitive   = true
}

module "flows" {
  source = "../.."

  name           = "flows-repo"
  repository_url = "https://github.com/acme/flows.git"
  reference      = "main"
  token          = var.github_token
}

output "repository_id" {
  value = module.flows.repository_id
}
