"""Platform keys and certificates, timestamping, (later) PAdES signing."""
