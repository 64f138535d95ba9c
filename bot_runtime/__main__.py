"""`python -m bot_runtime <rasa arguments>`: the `rasa` command line, with the speed fixes of this package applied.

The launcher starts the Rasa server this way (see launcher/stack.py).
"""

from __future__ import annotations

import os
import sys

from bot_runtime import (
    LISTEN_BACKLOG,
    action_outage,
    action_validation,
    channel_guard,
    chat_origins,
    event_lookup,
    message_limit,
    relay_once,
    resend_once,
    store_failures,
    token_redaction,
)


def main() -> int:
    os.environ.setdefault("SANIC_BACKLOG", str(LISTEN_BACKLOG))  # read by rasa.core.run when the server starts
    action_validation.install()
    action_outage.install()
    event_lookup.install()
    message_limit.install()
    channel_guard.install()
    chat_origins.install()
    relay_once.install()
    resend_once.install()
    store_failures.install()
    token_redaction.install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
