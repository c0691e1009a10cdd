# Any registered block type (including plug-in types) from a JSON document.
# Prefer the typed resources where they exist: they validate each attribute.
variable "bot_token" {
  type      = string
  sensitive = true
}

# GitHub credentials for a bot account, as a generic block.
resource "blocks_block" "github_bot" {
  type = "github-credentials"
  name = "bot"
  data = jsonencode({ token = var.bot_token })
}
