"""Court-ready reports rendered from a session's evidence."""
