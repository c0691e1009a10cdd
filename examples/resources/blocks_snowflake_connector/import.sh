# Import by block name or snowflake-connector/<name>.
terraform import blocks_snowflake_connector.warehouse warehouse
