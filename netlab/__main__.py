"""``python -m netlab`` is the ``netlab`` command."""

import sys

from netlab.cli import main

sys.exit(main())
