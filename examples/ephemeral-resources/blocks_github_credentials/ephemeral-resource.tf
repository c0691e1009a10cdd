# Terraform >= 1.10: the stored token configures the GitHub provider without entering plan or
# state:
#
#   provider "github" {
#     owner = "acme"
#     token = ephemeral.blocks_github_credentials.ci.token
#   }
ephemeral "blocks_github_credentials" "ci" {
  name = "ci"
}

# A fixed version, e.g. to compare with what a running job was given.
ephemeral "blocks_github_credentials" "ci_v3" {
  name    = "ci"
  version = 3
}
