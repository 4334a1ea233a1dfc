"""What operators watch: Prometheus metrics of a process and structured, redacted logs."""
