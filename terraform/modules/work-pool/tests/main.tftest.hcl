# `terraform test` (Terraform >= 1.6) against the registry the provider's environment names
# (BLOCKS_HOME / BLOCKS_DATABASE_URL): each run applies, and everything is destroyed at the end.
provider "blocks" {}

variables {
  name   = "tftest-pool"
  type   = "kubernetes"
  image  = "ghcr.io/acme/flows:1.4"
  memory = "1Gi"
  env = {
    LOG_LEVEL = "info"
  }
  queues = {
    critical = { priority = 1, concurrency_limit = 2 }
  }
}

run "rejects_an_unknown_pool_type" {
  command = plan
  variables {
    type = "lambda"
  }
  expect_failures = [var.type]
}

run "rejects_a_queue_named_default" {
  command = plan
  variables {
    queues = { default = { priority = 1, concurrency_limit = null } }
  }
  expect_failures = [var.queues]
}

run "creates_the_pool_with_the_job_variables_as_defaults" {
  assert {
    condition     = output.type == "kubernetes" && output.name == "tftest-pool"
    error_message = "The pool has the module's name and type."
  }
  assert {
    condition     = jsondecode(output.base_job_template).variables.properties.image.default == "ghcr.io/acme/flows:1.4"
    error_message = "The image is the template's default image."
  }
  assert {
    condition     = jsondecode(output.base_job_template).variables.properties.env.default == { LOG_LEVEL = "info" }
    error_message = "env is the template's default environment."
  }
  assert {
    condition     = output.queue_ids == { critical = "tftest-pool/critical" }
    error_message = "One queue per entry of var.queues, besides the default queue."
  }
  assert {
    condition     = output.default_queue_id == "tftest-pool/default"
    error_message = "Every pool has its default queue."
  }
}
