"""botlang's standard library: the functions bot authors already use, one module per domain.

Importing this package registers every function in ``botlang.core.builtins.REGISTRY``.
Installed as ``botlang.stdlib``. ``MODULES`` lists the modules in the order the function
reference shows them.
"""

from botlang.stdlib import (  # noqa: F401  (importing a module registers its functions)
    buttons,
    core,
    dates,
    dicts,
    lists,
    math,
    regex,
    salebot,
    strings,
    telephony,
    variables,
)

from botlang.core.builtins import REGISTRY

# After every module has registered: Salebot names still missing are known, not typos.
salebot.declare(REGISTRY)

MODULES = (
    "core",
    "math",
    "strings",
    "regex",
    "lists",
    "dicts",
    "buttons",
    "dates",
    "variables",
    "telephony",
)
