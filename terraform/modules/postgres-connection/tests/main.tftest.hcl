# `terraform test` (Terraform >= 1.6) against the registry the provider's environment names
# (BLOCKS_HOME / BLOCKS_DATABASE_URL): each run applies, and everything is destroyed at the end.
provider "blocks" {}

variables {
  name     = "tftest-db"
  host     = "db.internal"
  database = "app"
  username = "app"
  password_keepers = {
    rotation = "one"
  }
}

run "rejects_a_short_password" {
  command = plan
  variables {
    password_length = 8
  }
  expect_failures = [var.password_length]
}

run "creates_credentials_with_a_generated_password_kept_out_of_state" {
  assert {
    condition     = output.credentials_id == "database-credentials/tftest-db"
    error_message = "The credentials block is database-credentials/<name>."
  }
  assert {
    condition     = output.password_secret_id == "secret/tftest-db-password"
    error_message = "The password is the secret block <name>-password."
  }
  assert {
    condition     = blocks_database_credentials.this.password == null && blocks_secret.password.value == null
    error_message = "The generated password must not be in state."
  }
  assert {
    condition     = startswith(output.password_fingerprint, "hmac-sha256:")
    error_message = "State keeps a keyed fingerprint of the password instead."
  }
}

run "a_new_keeper_generates_and_copies_a_new_password" {
  variables {
    password_keepers = {
      rotation = "two"
    }
  }
  assert {
    condition     = blocks_secret.password.version == 2
    error_message = "Changing a keeper generates a new version of the password."
  }
  assert {
    condition     = blocks_database_credentials.this.password_wo_version == 2
    error_message = "The credentials copy the new password version."
  }
}
