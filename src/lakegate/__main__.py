"""``python -m lakegate``: the container entrypoint.

Without arguments it is ``lakegate ingest``: every enabled job of ``$LAKEGATE_CONFIG``
(exit 2 with a clear line when the variable is unset). With arguments it is the
``lakegate`` command line (``python -m lakegate demo``, ``python -m lakegate ingest -j ID``).
"""

from __future__ import annotations

import sys

from lakegate.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["ingest"]))
