variable "github_token" {
  type      = string
  sensitive = true
}

resource "blocks_github_credentials" "ci" {
  name  = "ci"
  token = var.github_token
}
