# Import by name (the value goes into state, as with `value`), or name:generated (as with
# `generate`) or name:write-only (as with `value_wo`): only version and fingerprint.
terraform import blocks_secret.api api-token
terraform import blocks_secret.db_password db-password:generated
terraform import blocks_secret.api_token secret/api-token:write-only
