"""The pure core: templates, the session state machine, answer verdicts. No I/O."""
