"""`python -m sim` is the `cybernorms` command."""

import sys

from sim.cli import main

sys.exit(main())
