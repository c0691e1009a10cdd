resource "blocks_snowflake_credentials" "this" {
  name                   = var.name
  account                = var.account
  user                   = var.user
  password               = var.password
  private_key            = var.private_key
  private_key_passphrase = var.private_key_passphrase
  role                   = var.role
}

resource "blocks_snowflake_connector" "this" {
  name        = var.name
  credentials = blocks_snowflake_credentials.this.id
  database    = var.database
  warehouse   = var.warehouse
  schema      = var.schema
}
