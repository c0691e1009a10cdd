# Import by name (the value goes into state, as with `value`), or name:generated (as with `generate`: only version and fingerprint).
terraform import blocks_secret.api api-token
terraform import blocks_secret.db_password db-password:generated
