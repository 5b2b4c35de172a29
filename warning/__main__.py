"""`python -m warning`: the same as the `warning` command."""

import sys

from warning.cli.main import main

sys.exit(main())
