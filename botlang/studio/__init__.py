"""botlang studio: a local web page to try a flow — its diagram with the client's block
highlighted, a chat with the bot, call outcomes, events and a virtual clock, the client's
variables, calls and errors, and "save as test". See docs/studio.md.

    from botlang.studio import Studio, create_app
    studio = Studio("examples/simple/simple.bot")
    app = create_app(studio)  # an ASGI app (Starlette)
"""

from botlang.studio.server import create_app
from botlang.studio.session import Studio, StudioError
from botlang.studio.timers import NoTimers, PendingTimer, Timers

__all__ = ["NoTimers", "PendingTimer", "Studio", "StudioError", "Timers", "create_app"]
