# Terraform >= 1.10. The value is read from the registry at plan and at apply and is never
# written to plan or state. Use it where Terraform keeps nothing: provider settings, write-only
# (`*_wo`) attributes (Terraform >= 1.11), ephemeral variables and outputs.
ephemeral "blocks_secret" "api_token" {
  name = "api-token"
}

# Copy it into another secret without it passing through state (write-only, >= 1.11).
resource "blocks_secret" "api_token_copy" {
  name             = "api-token-copy"
  value_wo         = ephemeral.blocks_secret.api_token.value
  value_wo_version = 1 # change to copy a new value
}

# A rotation's new value before it is promoted: stage = "pending" (or a version number).
ephemeral "blocks_secret" "api_token_next" {
  name  = "api-token"
  stage = "pending"
}

# Configure another provider with it, e.g. a second registry whose master key is a secret here:
provider "blocks" {
  alias      = "team"
  home       = "/srv/blocks-team"
  master_key = ephemeral.blocks_secret.team_master_key.value
}

ephemeral "blocks_secret" "team_master_key" {
  name = "team-master-key"
}
