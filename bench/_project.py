"""Lets each benchmark run as a script (``python bench/sweep.py``): put the project root, not bench/, first
on sys.path, so the project's packages import and bench/requests.py does not shadow the requests library."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

if sys.path and Path(sys.path[0]).resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)
elif str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
