"""Clinical-trial qualification: criteria as data, a catalog of IMNM trials, registry import."""
