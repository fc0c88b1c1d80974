"""Command-line layer: argument parsing, exit codes and printing. The work is in `pipeline`.

Exit status: 0 every check passed; 1 a check failed or could not run; 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rackplane import __version__

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
        sp.add_argument("--out", metavar="DIR",
                        help="output folder (default: outputs/<design name>/); rackplane replaces it "
                             "only when it is empty or rackplane wrote it")
        sp.add_argument("--force", action="store_true",
                        help="run every stage even when the design breaks a pre-flight rule")
        sp.add_argument("--quiet", action="store_true", help="no progress lines")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from rackplane.design import DesignError
    from rackplane.pipeline import Progress, build
    from rackplane.report import terminal_table
    from rackplane.workers import Interrupted

    try:
        result = build(args.design, args.out, full=args.command == "build", force=args.force,
                       progress=Progress(enabled=not args.quiet))
    except DesignError as exc:
        print(f"rackplane: bad input: {exc}", file=sys.stderr)
        return 2
    except Interrupted as exc:
        print(f"rackplane: interrupted ({exc}); the previous outputs are as they were", file=sys.stderr)
        return exc.exit_code
    print(terminal_table(result.results))
    if result.preflight_failed:
        print(f"stopped at pre-flight: the design breaks {', '.join(result.preflight_failed)}; nothing was "
              "generated (--force builds anyway)", file=sys.stderr)
    for name, why in sorted(result.failed_stages.items()):
        print(f"stage {name} failed: {why}", file=sys.stderr)
    if not result.complete:
        print(f"build incomplete: the outputs in {result.out_dir} are as they were", file=sys.stderr)
    print(f"report: {result.report_path} ({result.total_seconds:.1f} s)")
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
