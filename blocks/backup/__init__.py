"""Back up a whole registry to one encrypted file, and restore it into an empty registry.

``blocks backup FILE`` / ``blocks restore FILE`` (``blocks/cli/backup_cmds.py``) call
:func:`blocks.backup.dump.backup` and :func:`blocks.backup.restore.restore`. The file format is
in :mod:`blocks.backup.container` (header, KDF, AES-256-GCM chunks), the records it holds in
:mod:`blocks.backup.kinds` (one :class:`~blocks.backup.kinds.TableKind` per table: a new
sealed table joins the backup by adding one there). See docs/backup.md.
"""

from __future__ import annotations
