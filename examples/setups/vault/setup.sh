#!/usr/bin/env bash
# Transit engine, the registry's key and the `blocks` policy. VAULT=bao for OpenBao.
set -euo pipefail
VAULT="${VAULT:-vault}"
cd "$(dirname "$0")"
# Rerunnable: enable transit only where it is not mounted yet. (Not `list | grep -q`: under
# pipefail grep's early exit can fail the list with SIGPIPE, and enable then finds it mounted.)
mounts="$("$VAULT" secrets list -format=json)"
case "$mounts" in
    *'"transit/"'*) ;;
    *) "$VAULT" secrets enable transit ;;
esac
"$VAULT" write -f transit/keys/blocks type=aes256-gcm96
"$VAULT" policy write blocks blocks-policy.hcl
