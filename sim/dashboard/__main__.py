"""`python -m sim.dashboard`: the same as `cybernorms dashboard`."""

import sys

from sim.dashboard.server import cli

sys.exit(cli())
