"""Command-line layer: argument parsing, exit codes and printing. The work is in `pipeline`.

Exit status: 0 every check passed; 1 a check failed or could not run; 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rackplane import __version__

LAYOUT_CHECKS = ("mech.slot_fit", "fan.fit")  # rules a generator cannot build around

BUILD_EXAMPLE = """\
examples:
  rackplane build                         # the default design into outputs/default/
  rackplane build designs/pi5.toml        # another design into outputs/<its name>/
  rackplane build my.toml --out /tmp/rack # anywhere else
"""

CHECK_EXAMPLE = """\
examples:
  rackplane check                         # check the default design
  rackplane check designs/pi5.toml        # check another design, report into outputs/<name>/
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rackplane",
        description="Raspberry Pi clusters for a 19-inch rack as code: backplane, carrier and management PCBs, "
                    "a printable frame, and the checks that prove them.",
        epilog="examples:\n  rackplane build\n  rackplane check designs/default.toml\n"
               "run 'rackplane build --help' or 'rackplane check --help' for more.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"rackplane {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="{build,check}")
    for name, help_text, example in (
            ("build", "generate boards, frame, fabrication files and the check report", BUILD_EXAMPLE),
            ("check", "run the checks, generating only what they need", CHECK_EXAMPLE)):
        sp = sub.add_parser(name, help=help_text, description=help_text, epilog=example,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
        sp.add_argument("design", nargs="?", type=Path, metavar="DESIGN.toml",
                        help="parameter file (default: the embedded default design)")
        sp.add_argument("--out", type=Path, metavar="DIR",
                        help="output folder (default: outputs/<design name>/)")
        sp.add_argument("--quiet", action="store_true", help="no progress lines")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from rackplane.design import DesignError
    from rackplane.pipeline import Progress, build
    from rackplane.report import terminal_table

    try:
        result = build(args.design, args.out, full=args.command == "build",
                       progress=Progress(enabled=not args.quiet))
    except DesignError as exc:
        print(f"rackplane: bad input: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rackplane: interrupted; previous outputs left as they were", file=sys.stderr)
        return 130
    print(terminal_table(result.results))
    if result.failed_stages:
        for name, why in sorted(result.failed_stages.items()):
            print(f"stage {name} failed: {why}", file=sys.stderr)
        broken_rules = [r.id for r in result.results if r.status == "fail" and r.id in LAYOUT_CHECKS]
        if broken_rules:
            print(f"the design fails {', '.join(broken_rules)}: fix that first, the generators need "
                  "a layout that fits", file=sys.stderr)
        print(f"build incomplete: previous outputs in {result.out_dir} left as they were", file=sys.stderr)
    else:
        print(f"report: {result.out_dir / 'report.json'} ({result.total_seconds:.1f} s)")
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
