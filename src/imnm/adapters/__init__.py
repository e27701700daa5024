"""Adapters that bring patients from other systems into record documents (and back)."""
