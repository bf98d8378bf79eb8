"""The ``changan`` command."""
