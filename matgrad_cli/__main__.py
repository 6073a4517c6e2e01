"""python -m matgrad_cli runs the matgrad command."""

from .launch import main

main()
