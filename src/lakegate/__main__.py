"""``python -m lakegate``: the container entrypoint, runs every enabled job of $LAKEGATE_CONFIG."""

from __future__ import annotations

import sys

from lakegate.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["ingest"]))
