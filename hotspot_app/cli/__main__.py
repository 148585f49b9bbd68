"""`python -m hotspot_app.cli` runs the `hotspot` command line."""

from hotspot_app.cli import main

main()
