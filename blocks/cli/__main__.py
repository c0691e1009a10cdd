"""``python -m blocks.cli``."""

import sys

from blocks.cli.main import main

sys.exit(main())
