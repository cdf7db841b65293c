"""``python -m actors.cli``: the ``copub`` command."""

import sys

from actors.cli import main

sys.exit(main())
