"""``dualsign-verify BUNDLE [--json] [--trust ROOT.pem ...]``

Exit codes: 0 PASSED, 1 FAILED, 2 INDETERMINATE, 3 the input is not a readable bundle.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cryptography import x509

from dualsign_verify.bundle import MalformedBundle, open_bundle
from dualsign_verify.verifier import Status, verify

EXIT = {Status.PASSED: 0, Status.FAILED: 1, Status.INDETERMINATE: 2}
EXIT_MALFORMED = 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="dualsign-verify", description="Verify a DualSign evidence bundle offline."
    )
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--trust",
        type=Path,
        action="append",
        default=None,
        metavar="ROOT.pem",
        help="a platform root to trust (repeatable); without it the bundle's own root is used",
    )
    args = parser.parse_args(argv)
    try:
        roots = [x509.load_pem_x509_certificate(p.read_bytes()) for p in args.trust] if args.trust else None
        bundle = open_bundle(args.bundle)
    except (OSError, ValueError, MalformedBundle) as exc:
        message = f"not a readable DualSign bundle: {exc}"
        print(
            json.dumps({"verdict": "MALFORMED", "error": message}) if args.json else message, file=sys.stdout
        )
        return EXIT_MALFORMED
    report = verify(bundle, roots)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        for s in report.steps:
            print(f"{s.number}. {s.name:<20} {s.status.value:<13} {s.reason}")
        print(f"\n{report.verdict.value}")
    return EXIT[report.verdict]


if __name__ == "__main__":
    sys.exit(main())
