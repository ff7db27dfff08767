import sys

from scry.app.cli import main

sys.exit(main())
