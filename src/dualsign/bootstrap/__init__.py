"""Start-up: the settings (the only reader of the environment) and the one composition root that wires
adapters to use cases."""
