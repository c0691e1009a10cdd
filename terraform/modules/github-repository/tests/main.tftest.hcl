# `terraform test` (Terraform >= 1.6) against the registry the provider's environment names
# (BLOCKS_HOME / BLOCKS_DATABASE_URL): each run applies, and everything is destroyed at the end.
provider "blocks" {}

variables {
  name           = "tftest-flows"
  repository_url = "https://github.com/acme/flows"
  reference      = "main"
  token          = "ghp_tftestexampletoken"
}

run "rejects_a_repository_url_without_a_scheme" {
  command = plan
  variables {
    repository_url = "github.com/acme/flows"
  }
  expect_failures = [var.repository_url]
}

run "creates_the_repository_with_its_credentials" {
  assert {
    condition     = output.repository_id == "github-repository/tftest-flows"
    error_message = "The repository block is github-repository/<name>."
  }
  assert {
    condition     = blocks_github_repository.this.credentials == output.credentials_id
    error_message = "The repository must use the module's credentials."
  }
  assert {
    condition     = blocks_github_repository.this.reference == "main"
    error_message = "The reference is the repository block's reference."
  }
  assert {
    condition     = output.repository_placeholder == "{{ blocks.github-repository.tftest-flows }}"
    error_message = "The placeholder names the repository block."
  }
}
