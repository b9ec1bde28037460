"""The `jfc` command line."""
