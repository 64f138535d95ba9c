"""`python -m bot_runtime <rasa arguments>`: the `rasa` command line, with Concierge's patches of Rasa installed
(bot_runtime/patches.py: what each replaces and why; refused on a Rasa version they were not checked against).

The launcher starts the Rasa server this way (see launcher/stack.py).
"""

from __future__ import annotations

import os
import sys

from bot_runtime import LISTEN_BACKLOG, patches


def main() -> int:
    os.environ.setdefault("SANIC_BACKLOG", str(LISTEN_BACKLOG))  # read by rasa.core.run when the server starts
    patches.install_all()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
