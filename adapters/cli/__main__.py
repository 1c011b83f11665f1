"""``python -m adapters.cli``: the `briefbot` command without the installed script."""

from __future__ import annotations

import sys

from adapters.cli.main import main

if __name__ == "__main__":  # importing the module (a test walking the package) runs nothing
    sys.exit(main())
