"""``python -m botlang.testing [PATH...]``: the same as ``botlang test``."""

import sys

from botlang.cli.test import main

sys.exit(main())
