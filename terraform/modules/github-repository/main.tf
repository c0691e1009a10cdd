resource "blocks_github_credentials" "this" {
  name  = var.name
  token = var.token
}

resource "blocks_github_repository" "this" {
  name           = var.name
  repository_url = var.repository_url
  reference      = var.reference
  credentials    = blocks_github_credentials.this.id
}
