"""The platform PKI (root, issuing CA, CRLs; event and organisation certificates), timestamping (the
local TSA, an external RFC 3161 TSA), PAdES signing of documents and of the evidence report, and PDFs
opened, placed and rendered for the signer."""

import warnings

from cryptography.utils import CryptographyDeprecationWarning

# pyHanko imports cryptography's DSA key type when it loads, and cryptography ≥ 51 deprecates DSA. DualSign
# never makes or accepts DSA keys; only this one known warning, raised in pyHanko's own modules, is silenced
# (every other warning still shows).
warnings.filterwarnings(
    "ignore",
    message="DSA is deprecated",
    category=CryptographyDeprecationWarning,
    module=r"pyhanko",
)
