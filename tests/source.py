"""Where the tests find the source document the knowledge base is curated from.

It lives beside the checkout (``../shared/source``), never inside the repository; CI
puts it there. ``BRIEFBOT_SOURCE`` points elsewhere when needed.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def source_path() -> Path:
    override = os.environ.get("BRIEFBOT_SOURCE")
    path = Path(override) if override else REPO.parent / "shared" / "source" / "nato-japan-2023.txt"
    if not path.is_file():
        raise FileNotFoundError(
            f"the source document is missing at {path}; set BRIEFBOT_SOURCE to its location"
        )
    return path
