"""Who may do what through ``blocks server``: API tokens (:mod:`blocks.access.tokens`), access
policies (:mod:`blocks.access.policies`) and the principal a token authenticates as
(:mod:`blocks.access.principal`). Rows are sealed under the keyring
(:mod:`blocks.store.access_seals`). See docs/tokens-and-policies.md.
"""
