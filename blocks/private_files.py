"""Private files and directories: ``BLOCKS_HOME`` is 0700 and the SQLite database 0600, whatever
the umask and whoever creates them first (the CLI, the Python API or the Terraform provider).

Only what this module creates gets these modes; existing files and directories are left as they
are (the local master key file's own check refuses a key readable by others).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` with mode 0700 if it does not exist (missing parents are created too);
    returns it as a :class:`~pathlib.Path`."""
    target = Path(path).absolute()
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        target.mkdir(mode=DIR_MODE)
    except FileExistsError:
        return target  # another process won the race; its mode is its own
    os.chmod(target, DIR_MODE)  # mkdir's mode is masked by the umask
    return target


def private_file(path: str | os.PathLike[str]) -> Path:
    """Create an empty file with mode 0600 if it does not exist, in a private directory.

    SQLite creates its database (and its ``-wal``/``-shm`` files, which copy the database
    file's mode) with 0644 minus the umask; creating the file first keeps all of them 0600.
    """
    target = Path(path).absolute()
    if target.exists():
        return target
    private_dir(target.parent)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return target
    with contextlib.closing(os.fdopen(fd, "w")):
        os.fchmod(fd, FILE_MODE)
    return target
