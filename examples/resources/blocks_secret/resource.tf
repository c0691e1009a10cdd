# A secret the provider generates: state keeps only its version and a keyed fingerprint.
resource "blocks_secret" "db_password" {
  name = "db-password"
  generate {
    length  = 40
    keepers = { rotation = "2026-q4" } # change to rotate
  }
}

# A secret given in configuration (held in state, marked sensitive).
variable "api_token" {
  type      = string
  sensitive = true
}

resource "blocks_secret" "api" {
  name  = "api-token"
  value = var.api_token
}
