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
