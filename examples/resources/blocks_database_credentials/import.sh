# Import by block name or database-credentials/<name>.
terraform import blocks_database_credentials.app app-db
