#!/usr/bin/env bash
# Transit engine, the registry's key and the `blocks` policy. VAULT=bao for OpenBao.
set -euo pipefail
VAULT="${VAULT:-vault}"
cd "$(dirname "$0")"
"$VAULT" secrets list -format=json | grep -q '"transit/"' || "$VAULT" secrets enable transit
"$VAULT" write -f transit/keys/blocks type=aes256-gcm96
"$VAULT" policy write blocks blocks-policy.hcl
