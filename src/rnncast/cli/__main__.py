"""``python -m rnncast.cli``: the command line."""

from rnncast.cli import main

raise SystemExit(main())
