"""`python -m launcher`: run the whole Concierge stack until Ctrl-C; `--cluster`: the replicated production layout
behind nginx (launcher/cluster.py)."""

import argparse
import os
import sys

import clock
from launcher.settings import StackSettings
from launcher.stack import run_forever

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m launcher", description=__doc__)
    parser.add_argument("--cluster", action="store_true",
                        help="2 replicas of Rasa, actions and routing on PostgreSQL and Redis, behind nginx")
    args = parser.parse_args()
    os.environ.setdefault("CONCIERGE_ENV", "development")  # `make run` is the development stack
    try:
        started_at = clock.utcnow()  # one stack clock: sets CONCIERGE_CLOCK_ANCHOR for every child process
    except clock.ClockError as error:
        sys.exit(f"launcher: {error}")
    if os.environ.get(clock.START_VARIABLE):
        print(f"[launcher] the stack's clock starts at {started_at.isoformat()} ({clock.START_VARIABLE})")
    if args.cluster:
        from launcher.cluster import Cluster, ClusterSettings

        cluster = ClusterSettings.from_stack(StackSettings())
        sys.exit(run_forever(cluster.stack, Cluster(cluster)))
    sys.exit(run_forever(StackSettings()))
