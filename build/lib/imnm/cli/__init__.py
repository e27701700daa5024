"""The `imnm` command line: thin adapters over the library (parse, call, print)."""
