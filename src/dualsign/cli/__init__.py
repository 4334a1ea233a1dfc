"""The ``dualsign`` command line."""
