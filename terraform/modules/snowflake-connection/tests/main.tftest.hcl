# `terraform test` (Terraform >= 1.6) against the registry the provider's environment names
# (BLOCKS_HOME / BLOCKS_DATABASE_URL): each run applies, and everything is destroyed at the end.
provider "blocks" {}

variables {
  name      = "tftest-sf"
  account   = "nh12345.eu-west-1.aws"
  user      = "etl"
  password  = "sf-tftest-pass"
  database  = "raw"
  warehouse = "load_wh"
}

run "rejects_an_account_given_as_a_host_name" {
  command = plan
  variables {
    account = "nh12345.snowflakecomputing.com"
  }
  expect_failures = [var.account]
}

run "creates_the_connector_with_its_credentials" {
  assert {
    condition     = output.connector_id == "snowflake-connector/tftest-sf"
    error_message = "The connector block is snowflake-connector/<name>."
  }
  assert {
    condition     = blocks_snowflake_connector.this.credentials == output.credentials_id
    error_message = "The connector must use the module's credentials."
  }
  assert {
    condition     = blocks_snowflake_connector.this.schema == "public"
    error_message = "The schema defaults to public."
  }
}
