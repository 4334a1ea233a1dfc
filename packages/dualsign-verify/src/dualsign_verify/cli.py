"""``dualsign-verify BUNDLE [--json] [--trust FILE ...] [--sm3]``

Exit codes: 0 PASSED, 1 FAILED, 2 INDETERMINATE (nothing anchored without a trust policy, or a step
could not be decided), 3 the input is not a readable bundle, 4 wrong arguments or an unreadable trust file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import NoReturn

from dualsign_verify.bundle import MalformedBundle, open_bundle
from dualsign_verify.trust import TrustFileError, TrustPolicy, parse_policy
from dualsign_verify.verifier import Report, Status, verify

EXIT = {Status.PASSED: 0, Status.FAILED: 1, Status.INDETERMINATE: 2}
EXIT_MALFORMED = 3
EXIT_USAGE = 4

EPILOG = """exit codes:
  0  PASSED         every step passed, anchored in the trust policy
  1  FAILED         a step failed: the bundle is not what was sealed, or not by a trusted platform
  2  INDETERMINATE  a step could not be decided; always the case without --trust (nothing anchored)
  3  MALFORMED      the input is not a readable DualSign bundle (one line says why)
  4  USAGE          wrong arguments, or the trust file cannot be read

The trust file is published by the platform's operator (dualsign keys export-trust); it pins the
platform root, external TSA roots and the transparency log's key. Nothing in the bundle is trusted."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse's own 2 would read as INDETERMINATE
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _policy(paths: list[Path] | None) -> TrustPolicy | None:
    if not paths:
        return None
    policy = TrustPolicy(covers=frozenset())
    for path in paths:
        try:
            policy = policy.merged(parse_policy(path.read_bytes()))
        except (OSError, TrustFileError) as exc:
            raise TrustFileError(f"{path}: {exc}") from None
    return policy


def _human(report: Report, trust: TrustPolicy | None) -> str:
    lines = [f"{s.number}. {s.name:<20} {s.status.value:<13} {s.reason}" for s in report.steps]
    lines += ["", report.verdict.value]
    if trust is None:
        lines += [
            "No trust policy given (--trust FILE): the bundle's own root, TSA and log key were used, so",
            "nothing above is anchored. Compare these with the operator's published trust file:",
        ]
        lines += [f"  {k:<14} {v}" for k, v in report.facts.get("fingerprints", {}).items()]
    else:
        undecided = [s.name for s in report.steps if s.status is Status.INDETERMINATE]
        if undecided:
            lines.append(f"Not decided: {', '.join(undecided)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(
        prog="dualsign-verify",
        description="Verify a DualSign evidence bundle offline.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--trust",
        type=Path,
        action="append",
        default=None,
        metavar="FILE",
        help="the operator's trust file (JSON), or PEM platform root(s); repeatable. "
        "Without it the verdict is at best INDETERMINATE",
    )
    parser.add_argument(
        "--sm3",
        action="store_true",
        help="also check every artifact's SM3 (GM/T 0004) beside its SHA-256; about half as fast",
    )
    args = parser.parse_args(argv)
    try:
        trust = _policy(args.trust)
    except TrustFileError as exc:
        print(f"unreadable trust file: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        report = verify(open_bundle(args.bundle), trust, sm3=args.sm3)
    except (OSError, MalformedBundle) as exc:
        return _malformed(args.json, str(exc))
    except Exception as exc:  # fail closed, in one line: an input no check foresaw is not a pass
        return _malformed(args.json, f"could not be processed: {type(exc).__name__}: {exc}")
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        print(_human(report, trust))
    return EXIT[report.verdict]


def _malformed(as_json: bool, reason: str) -> int:
    message = " ".join(f"not a readable DualSign bundle: {reason}".split())[:500]
    print(json.dumps({"verdict": "MALFORMED", "error": message}) if as_json else message)
    return EXIT_MALFORMED


if __name__ == "__main__":
    sys.exit(main())
