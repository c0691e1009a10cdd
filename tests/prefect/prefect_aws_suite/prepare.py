"""Fetch prefect-aws's own tests (from its pinned sdist) and point their imports at Blocks.

:func:`prepare` downloads ``prefect-aws==VERSION``'s sdist with pip into a cache folder inside
the virtualenv (once; reruns reuse it), unpacks its ``tests/`` and rewrites their imports with
:mod:`.rewrite`, next to a ``pytest.ini`` with prefect-aws's own pytest settings,
:mod:`.harness` as ``blocks_suite_harness`` and :mod:`.plugin` as ``blocks_suite_plugin``.
Nothing of prefect-aws is kept in this repository.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

from tests.prefect.prefect_aws_suite.rewrite import rewrite_tree

VERSION = "0.7.12"
HERE = Path(__file__).parent
CACHE = Path(sys.prefix) / "cache" / "prefect-aws-suite"

# prefect-aws's [tool.pytest.ini_options] (pytest-env's PREFECT_TEST_MODE is set by the runner).
PYTEST_INI = """\
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = session
asyncio_default_test_loop_scope = session
markers =
    is_public: mark test as using public S3 bucket or not
    windows: tests that specifically test Windows-only behavior
"""


def sdist(cache: Path = CACHE) -> Path:
    """The cached sdist of prefect-aws ``VERSION``, downloaded with pip the first time."""
    cache.mkdir(parents=True, exist_ok=True)
    name = f"prefect_aws-{VERSION}.tar.gz"
    if not (cache / name).is_file():
        subprocess.run(
            # The sdist of prefect-aws only: its build requirements (for the metadata pip
            # reads) come as wheels; ``:all:`` built them from source too, over a minute.
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--no-binary", "prefect-aws", f"prefect-aws=={VERSION}", "--dest", str(cache)],
            check=True, timeout=300,
        )
    return cache / name


def prepare(dest: Path, cache: Path = CACHE) -> Path:
    """The suite ready to run under ``dest`` (its rootdir; the tests are in ``dest/tests``)."""
    unpacked = cache / f"prefect_aws-{VERSION}"
    if not (unpacked / "tests").is_dir():
        with tarfile.open(sdist(cache)) as archive:
            members = [m for m in archive.getmembers()
                       if m.name.startswith(f"prefect_aws-{VERSION}/tests/")]
            archive.extractall(cache, members=members, filter="data")
    dest.mkdir(parents=True, exist_ok=True)
    rewrite_tree(unpacked / "tests", dest / "tests")
    (dest / "pytest.ini").write_text(PYTEST_INI)
    shutil.copyfile(HERE / "harness.py", dest / "blocks_suite_harness.py")
    shutil.copyfile(HERE / "plugin.py", dest / "blocks_suite_plugin.py")
    return dest
