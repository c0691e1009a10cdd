# Terraform >= 1.10: the stored credentials configure another provider without entering plan
# or state, e.g. with the cyrilgdn/postgresql provider:
#
#   provider "postgresql" {
#     host     = ephemeral.blocks_database_credentials.admin.host
#     username = ephemeral.blocks_database_credentials.admin.username
#     password = ephemeral.blocks_database_credentials.admin.password
#   }
ephemeral "blocks_database_credentials" "admin" {
  name = "pg-admin"
}

# Or into a write-only attribute (Terraform >= 1.11): the admin password as a secret of its own.
resource "blocks_secret" "admin_password" {
  name             = "pg-admin-password"
  value_wo         = ephemeral.blocks_database_credentials.admin.password
  value_wo_version = 1
}
