"""Master-key providers. Hazardous materials: low-level.

A provider wraps and unwraps the keyring's data-key terms with a master key that never lives in
the database. Application code uses :class:`blocks.Registry`; nothing here is needed to save or
load a block. ``import blocks.keys`` never imports boto3 or hvac: each provider module loads its
SDK when it is first used and names the extra to install when it is missing.
"""

from blocks.keys.base import KeyProvider, canonical_context

__all__ = ["KeyProvider", "canonical_context"]
