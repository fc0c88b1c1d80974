"""The check report in three forms: a terminal table, report.json and report.html.

report.json is the machine-readable face of the project; its field names are stable:
  {"rackplane_version", "design": {...resolved, nested like the TOML...},
   "design_as_written": {...}, "resolved": {key: what "auto" became and why},
   "complete": whether every stage ran, "summary": {"pass", "fail", "error", "status"},
   "checks": [{id, status, value, limit, unit, margin, message, parts, details}],
   "stages": [{name, seconds, cached, error}], "build_seconds", "layout": {...}}
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

from rackplane import __version__
from rackplane.checks import ERROR, FAIL, PASS


_NOT_RUN = "could not run: not run: "


def summary(results) -> dict:
    counts = {s: sum(1 for r in results if r.status == s) for s in (PASS, FAIL, ERROR)}
    counts["status"] = PASS if counts[FAIL] == 0 and counts[ERROR] == 0 and results else FAIL
    return counts


def report_dict(result, ctx, raw_design) -> dict:
    return {
        "rackplane_version": __version__,
        "design": result.design.to_nested(),
        "design_as_written": raw_design.to_nested(),
        "resolved": dict(sorted(result.notes.items())),
        "complete": result.complete,
        "summary": summary(result.results),
        "checks": [r.to_dict() for r in result.results],
        "stages": [{"name": s.name, "seconds": round(s.seconds, 3), "cached": s.cached, "error": s.error}
                   for s in result.stage_runs],
        "build_seconds": round(result.total_seconds, 3),
        "layout": ctx.layout.to_dict(),
    }


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def write_report(result, ctx, raw_design, out_dir: Path, stem: str = "report") -> Path:
    """Write `<stem>.json` and `<stem>.html` into out_dir; return the HTML's path."""
    data = report_dict(result, ctx, raw_design)
    _atomic_write(out_dir / f"{stem}.json", json.dumps(data, indent=2, default=list) + "\n")
    _atomic_write(out_dir / f"{stem}.html", render_html(data))
    return out_dir / f"{stem}.html"


def _fmt(value, unit: str) -> str:
    if value is None:
        return "-"
    return f"{value:.4g} {unit}".strip()


def terminal_table(results, width: int = 110) -> str:
    rows = [("check", "status", "value", "limit", "margin")]
    for r in results:
        rows.append((r.id, r.status.upper(), _fmt(r.value, r.unit), _fmt(r.limit, r.unit),
                     _fmt(r.margin, r.unit)))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    problems = [r for r in results if r.status != PASS]
    skipped = [r for r in problems if _NOT_RUN in r.message]
    if problems:
        lines.append("")
        for r in problems:
            if r in skipped:
                continue
            text = r.message if len(r.message) <= width * 3 else r.message[: width * 3] + " ..."
            lines.append(f"{r.status.upper()}: {text}")
        if skipped:
            why = skipped[0].message.split(_NOT_RUN, 1)[1]
            lines.append(f"NOT RUN ({len(skipped)} checks): {why}")
    s = summary(results)
    lines.append("")
    lines.append(f"{s[PASS]} passed, {s[FAIL]} failed, {s[ERROR]} errors")
    return "\n".join(lines)


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.pass { background: #e5f5e5; } td.fail { background: #fbe0e0; } td.error { background: #fff0cc; }
td.msg { font-size: 0.9em; max-width: 60em; }
code { font-size: 0.9em; }
"""


def render_html(data: dict) -> str:
    e = html.escape
    s = data["summary"]
    rows = []
    for c in data["checks"]:
        rows.append(
            f"<tr><td><code>{e(c['id'])}</code></td><td class='{e(c['status'])}'>{e(c['status'])}</td>"
            f"<td>{e(_fmt(c['value'], c['unit']))}</td><td>{e(_fmt(c['limit'], c['unit']))}</td>"
            f"<td>{e(_fmt(c['margin'], c['unit']))}</td><td class='msg'>{e(c['message'])}"
            f"{'<br>parts: ' + e(', '.join(c['parts'])) if c['parts'] else ''}</td></tr>")
    stage_rows = "".join(
        f"<tr><td>{e(st['name'])}</td><td>{st['seconds']:.2f} s</td>"
        f"<td>{'cache' if st['cached'] else 'built'}</td><td>{e(st['error'] or '')}</td></tr>"
        for st in data["stages"])
    design_rows = []

    def walk(table: dict, prefix: str = "") -> None:
        for k, v in table.items():
            if isinstance(v, dict):
                walk(v, f"{prefix}{k}.")
            else:
                design_rows.append(f"<tr><td><code>{e(prefix + k)}</code></td><td>{e(json.dumps(v))}</td></tr>")

    walk(data["design"])
    name = data["design"].get("name", "")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rackplane report: {e(name)}</title>
<style>{_STYLE}</style></head><body>
<h1>rackplane report: {e(name)}</h1>
<p><strong>{s['pass']} passed, {s['fail']} failed, {s['error']} errors</strong>
 (rackplane {e(data['rackplane_version'])}, build {data['build_seconds']:.1f} s)</p>
<h2>Checks</h2>
<table><tr><th>check</th><th>status</th><th>value</th><th>limit</th><th>margin</th><th>message</th></tr>
{''.join(rows)}</table>
<h2>Resolved design</h2>
<table><tr><th>key</th><th>value</th></tr>{''.join(design_rows)}</table>
<h2>Stages</h2>
<table><tr><th>stage</th><th>time</th><th>source</th><th>error</th></tr>{stage_rows}</table>
</body></html>
"""
