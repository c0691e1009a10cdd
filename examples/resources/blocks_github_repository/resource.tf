resource "blocks_github_credentials" "ci" {
  name = "ci" # no token: public repositories only
}

resource "blocks_github_repository" "flows" {
  name           = "flows"
  repository_url = "https://github.com/acme/flows.git"
  reference      = "main"
  credentials    = blocks_github_credentials.ci.id
}
