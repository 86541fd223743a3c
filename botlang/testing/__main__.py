"""``python -m botlang.testing [PATH...]``: the same as ``botlang test``."""

import sys

from botlang.testing.cli import main

sys.exit(main())
