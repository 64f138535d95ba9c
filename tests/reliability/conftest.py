"""Reliability drills: real processes killed with `kill -9`, real HTTP, real databases."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
