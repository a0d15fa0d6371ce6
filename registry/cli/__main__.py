"""``python -m registry.cli``, as the ``registry`` command."""

from registry.cli import main

main()
