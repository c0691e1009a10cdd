# Terraform >= 1.10: the stored login configures the Snowflake provider without entering plan
# or state:
#
#   provider "snowflake" {
#     organization_name = "acme"
#     account_name      = ephemeral.blocks_snowflake_credentials.admin.account
#     user              = ephemeral.blocks_snowflake_credentials.admin.user
#     password          = ephemeral.blocks_snowflake_credentials.admin.password
#   }
ephemeral "blocks_snowflake_credentials" "admin" {
  name = "sf-admin"
}
