variable "snowflake_password" {
  type      = string
  sensitive = true
}

resource "blocks_snowflake_credentials" "loader" {
  name     = "loader"
  account  = "nh12345.us-east-2.aws"
  user     = "loader"
  password = var.snowflake_password
}

resource "blocks_snowflake_connector" "warehouse" {
  name        = "warehouse"
  credentials = blocks_snowflake_credentials.loader.id
  database    = "RAW"
  warehouse   = "LOAD_WH"
  schema      = "PUBLIC"
}
