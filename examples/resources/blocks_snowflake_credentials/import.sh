# Import by block name or snowflake-credentials/<name>.
terraform import blocks_snowflake_credentials.loader loader
