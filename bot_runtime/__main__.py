"""`python -m bot_runtime <rasa arguments>`: the `rasa` command line, with the speed fixes of this package applied.

The launcher starts the Rasa server this way (see launcher/stack.py).
"""

from __future__ import annotations

import sys

from bot_runtime import action_validation, channel_guard, event_lookup, message_limit


def main() -> int:
    action_validation.install()
    event_lookup.install()
    message_limit.install()
    channel_guard.install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
