"""`python -m autotrack` is the `autotrack` command."""

import sys

from autotrack.cli import main

sys.exit(main())
