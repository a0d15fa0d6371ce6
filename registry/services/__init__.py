"""Use cases called alike by the web layer, the CLI and the scheduler."""
