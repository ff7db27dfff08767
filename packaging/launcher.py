"""Entry point of the desktop bundle: the same `scry` command as the console script."""

import sys

from scry.app.cli import main

if __name__ == "__main__":
    sys.exit(main())
