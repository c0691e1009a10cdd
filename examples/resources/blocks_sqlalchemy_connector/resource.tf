variable "db_password" {
  type      = string
  sensitive = true
}

resource "blocks_sqlalchemy_connector" "warehouse" {
  name = "warehouse"
  # The URL's parts, or a whole URL string: jsonencode("postgresql+psycopg://...").
  connection_info = jsonencode({
    driver   = "postgresql+psycopg"
    host     = "db.internal"
    port     = 5432
    database = "warehouse"
    username = "etl"
    password = var.db_password
  })
  fetch_size = 100
}
