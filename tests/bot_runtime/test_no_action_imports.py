"""The Rasa process runs without the action code: `python -m bot_runtime` (and every patch it installs) imports no
module of `actions`, so a change to an action can never break or slow the Rasa server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECK = """
import sys
import bot_runtime.__main__ as entry
import bot_runtime.tracker_store, bot_runtime.socketio_channel
loaded = sorted(name for name in sys.modules if name == "actions" or name.startswith("actions."))
print(",".join(loaded))
"""


def test_the_rasa_process_imports_no_action_code() -> None:
    done = subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "", f"the Rasa process imports {done.stdout.strip()}"
