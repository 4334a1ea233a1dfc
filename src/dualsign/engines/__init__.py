"""Speech (and later vision) engines: thin adapters behind the typed ports of ``engines.base``."""
