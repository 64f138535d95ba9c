"""`python -m launcher`: run the whole Concierge stack until Ctrl-C."""

import sys

from launcher.settings import StackSettings
from launcher.stack import run_forever

if __name__ == "__main__":
    sys.exit(run_forever(StackSettings()))
