"""Adapters that read and write files. The clinical core never imports this package."""
