"""``python -m botlang``: the same as the ``botlang`` command."""

import sys

from botlang.cli import main

sys.exit(main())
