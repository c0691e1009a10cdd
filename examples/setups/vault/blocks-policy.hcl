# What a process using the registry needs: encrypt and decrypt with the one key, and read the
# key's metadata (checked at start-up). Nothing else: it cannot export or delete the key.
path "transit/encrypt/blocks" {
  capabilities = ["update"]
}
path "transit/decrypt/blocks" {
  capabilities = ["update"]
}
path "transit/keys/blocks" {
  capabilities = ["read"]
}
