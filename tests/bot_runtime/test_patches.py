"""The registry of Rasa's replaced internals (bot_runtime/patches.py): every patch is in effect after install_all and
none before (checked in a fresh process), each names targets that exist in this Rasa, and another Rasa version is
refused with a clear message. What each patch does is tested beside it (tests/bot_runtime/test_*.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot_runtime import patches

ROOT = Path(__file__).resolve().parents[2]
STATE = """
import json
from bot_runtime import patches
{install}
print(json.dumps({{p.name: patches.in_effect(p) for p in patches.PATCHES}}))
"""


def _in_effect(install: bool) -> dict[str, bool]:
    code = STATE.format(install="patches.install_all()" if install else "")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_each_patch_is_in_effect_after_install_all_and_not_before() -> None:
    before, after = _in_effect(install=False), _in_effect(install=True)
    names = [p.name for p in patches.PATCHES]
    assert sorted(before) == sorted(after) == sorted(names) and len(set(names)) == len(names)
    assert not any(before.values()), [name for name, on in before.items() if on]
    assert all(after.values()), [name for name, on in after.items() if not on]


def test_every_target_exists_in_this_rasa_and_every_patch_says_why() -> None:
    for patch in patches.PATCHES:
        assert patch.why and patch.targets
        for target in patch.targets:
            assert callable(patches.resolve(target)), target


CHAINS = """
import json
from bot_runtime import patches
patches.install_all()
targets = ("rasa.core.processor.MessageProcessor.handle_message", "rasa.core.run.configure_app")
print(json.dumps({target: [f.__module__ for f in patches._functions_behind(patches.resolve(target), set())]
                  for target in targets}))
"""


def test_the_wrappers_of_one_target_run_in_the_registry_order() -> None:
    """Installed later is outside: handle_message runs resend_once before message_limit (in a fresh process: other
    tests install single patches in their own order)."""
    done = subprocess.run([sys.executable, "-c", CHAINS], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    chains = json.loads(done.stdout.strip().splitlines()[-1])
    handle = chains["rasa.core.processor.MessageProcessor.handle_message"]
    assert handle.index("bot_runtime.resend_once") < handle.index("bot_runtime.message_limit")
    configure = chains["rasa.core.run.configure_app"]
    assert configure.index("bot_runtime.chat_origins") < configure.index("bot_runtime.channel_guard")


def test_another_rasa_version_is_refused_with_what_to_do() -> None:
    patches.check_rasa_version("3.6.21")
    with pytest.raises(SystemExit, match="checked against Rasa 3.6.21 only, and this is Rasa 3.7.0"):
        patches.check_rasa_version("3.7.0")
