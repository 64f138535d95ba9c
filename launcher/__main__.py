"""`python -m launcher`: run the whole Concierge stack until Ctrl-C."""

import os
import sys

import clock
from launcher.settings import StackSettings
from launcher.stack import run_forever

if __name__ == "__main__":
    os.environ.setdefault("CONCIERGE_ENV", "development")  # `make run` is the development stack
    try:
        started_at = clock.utcnow()  # one stack clock: sets CONCIERGE_CLOCK_ANCHOR for every child process
    except clock.ClockError as error:
        sys.exit(f"launcher: {error}")
    if os.environ.get(clock.START_VARIABLE):
        print(f"[launcher] the stack's clock starts at {started_at.isoformat()} ({clock.START_VARIABLE})")
    sys.exit(run_forever(StackSettings()))
