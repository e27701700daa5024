"""The pure clinical core: no I/O, no clock, no environment. Pass `as_of` in."""
