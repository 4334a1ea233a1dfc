"""dualsign-verify: the DualSign evidence format and its offline verifier.

This distribution depends on nothing of the DualSign service, no ML engine and no web framework, so
that a court or an auditor can install only this to check an evidence bundle.
"""

__version__ = "0.1.0"
