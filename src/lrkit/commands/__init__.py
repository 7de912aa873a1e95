"""Subcommands of the ``lrkit`` command line, one module per group (each has ``register(app)``)."""
