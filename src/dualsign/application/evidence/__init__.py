"""Evidence: sealing, bundles, the transparency log, the evidence report, retention."""
