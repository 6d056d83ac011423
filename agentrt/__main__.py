"""`python -m agentrt ...` runs the command line."""

from agentrt.cli.main import main

main()
