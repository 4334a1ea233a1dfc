"""DualSign: self-hosted audio+video dual-recorded electronic signing with verifiable evidence."""

__version__ = "0.1.0"
