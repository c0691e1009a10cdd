variable "db_password" {
  type      = string
  sensitive = true
}

resource "blocks_database_credentials" "app" {
  name     = "app-db"
  driver   = "postgresql+psycopg"
  host     = "db.internal"
  port     = 5432
  database = "app"
  username = "etl"
  password = var.db_password
  query    = jsonencode({ sslmode = "require" })
}

# Rotated by Blocks (`blocks rotate --due` from cron): the password is managed by rotation.
# It is never in state (rotation_fingerprint tracks it), a rotation leaves the plan empty, and
# changing rotate_trigger rotates on apply. alternating-users flips between app and app_clone so
# that holders of the previous password keep working through the grace.
variable "pg_admin_password" {
  type      = string
  sensitive = true
}

resource "blocks_database_credentials" "pg_admin" {
  name     = "pg-admin"
  driver   = "postgresql+psycopg"
  host     = "db.internal"
  database = "postgres"
  username = "rotator"
  password = var.pg_admin_password
}

resource "blocks_database_credentials" "rotated" {
  name     = "app-rotated"
  driver   = "postgresql+psycopg"
  host     = "db.internal"
  database = "app"
  username = "app"
  rotation {
    rotator = "postgres-password"
    every   = "30d"
    grace   = "1d"
    options = jsonencode({
      admin_block = blocks_database_credentials.pg_admin.id
      strategy    = "alternating-users"
    })
  }
  rotate_trigger = "2026-q4" # change to rotate on the next apply
}
