"""python -m matgrad_cli runs the matgrad command."""

from .cli import main

main()
