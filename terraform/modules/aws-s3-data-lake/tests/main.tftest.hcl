# `terraform test` (Terraform >= 1.6) against the registry the provider's environment names
# (BLOCKS_HOME / BLOCKS_DATABASE_URL): each run applies, and everything is destroyed at the end.
provider "blocks" {}

variables {
  name     = "tftest-lake"
  region   = "eu-west-1"
  role_arn = "arn:aws:iam::123456789012:role/tftest"
  buckets = {
    tftest-raw     = { bucket_name = "acme-tftest-raw", folder = "" }
    tftest-curated = { bucket_name = "acme-tftest-curated", folder = "v1" }
  }
}

run "rejects_a_malformed_region" {
  command = plan
  variables {
    region = "Europe"
  }
  expect_failures = [var.region]
}

run "rejects_a_bucket_name_s3_refuses" {
  command = plan
  variables {
    buckets = { tftest-raw = { bucket_name = "not a bucket", folder = "" } }
  }
  expect_failures = [var.buckets]
}

run "creates_the_credentials_and_buckets_that_use_them" {
  assert {
    condition     = output.credentials_id == "aws-credentials/tftest-lake"
    error_message = "The credentials block is not aws-credentials/<name>."
  }
  assert {
    condition = output.bucket_ids == {
      tftest-raw     = "s3-bucket/tftest-raw"
      tftest-curated = "s3-bucket/tftest-curated"
    }
    error_message = "One bucket block per entry of var.buckets, named by its key."
  }
  assert {
    condition     = alltrue([for b in blocks_s3_bucket.this : b.credentials == output.credentials_id])
    error_message = "Every bucket must use the module's credentials."
  }
  assert {
    condition     = blocks_s3_bucket.this["tftest-curated"].bucket_folder == "v1"
    error_message = "The folder is the bucket block's bucket_folder."
  }
  assert {
    condition     = output.bucket_placeholders["tftest-raw"] == "{{ blocks.s3-bucket.tftest-raw }}"
    error_message = "Placeholders name the bucket blocks."
  }
}

run "updates_a_bucket_in_place" {
  variables {
    buckets = {
      tftest-raw     = { bucket_name = "acme-tftest-raw", folder = "landing" }
      tftest-curated = { bucket_name = "acme-tftest-curated", folder = "v1" }
    }
  }
  assert {
    condition     = blocks_s3_bucket.this["tftest-raw"].version == 2
    error_message = "A changed folder writes a new version of the same block."
  }
}
