"""Render a history of runs as static HTML: index.html plus one page per check of the
latest run (its outcome, reason, rerun, details and transcript).

Templates are Jinja2 (reports/templates/): autoescaping by default matters here, since
transcripts carry whatever an engine printed; the chart is inline SVG computed here,
so the report opens offline with no script at all.
"""
from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import jinja2

from reports import analysis, history

TEMPLATES = Path(__file__).parent / "templates"
COLORS = ["#1f6feb", "#d9480f", "#2f9e44", "#9c36b5", "#e8590c", "#0c8599"]


def check_page(impl: str, case: str) -> str:
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "-", case.split("::")[-1])[:60].strip("-")
    digest = hashlib.sha1(f"{impl}\0{case}".encode()).hexdigest()[:10]
    return f"checks/{impl}-{readable}-{digest}.html"


def chart(runs: list[history.Run], width: int = 720, height: int = 220) -> dict:
    """Pass rate per implementation over the runs, as SVG geometry for the template."""
    left, right, top, bottom = 48, 40, 12, 40
    series = analysis.trend(runs)
    n = len(runs)
    span_x = width - left - right
    span_y = height - top - bottom

    def x(i: int) -> float:
        return left + (span_x * i / (n - 1) if n > 1 else span_x / 2)

    def y(rate: float) -> float:
        return top + span_y * (1 - rate)

    lines = []
    for index, (impl, rates) in enumerate(series.items()):
        points = [(x(i), y(r), r, runs[i].name) for i, r in enumerate(rates) if r is not None]
        lines.append({"impl": impl, "color": COLORS[index % len(COLORS)],
                      "path": " ".join(f"{px:.1f},{py:.1f}" for px, py, _, _ in points),
                      "points": [{"x": round(px, 1), "y": round(py, 1), "rate": r, "run": name}
                                 for px, py, r, name in points]})
    grid = [{"y": round(y(v / 100), 1), "label": f"{v}%"} for v in (0, 25, 50, 75, 100)]
    ticks = [{"x": round(x(i), 1), "label": run.name[4:8] + " " + run.name[9:13]} for i, run in enumerate(runs)]
    return {"width": width, "height": height, "lines": lines, "grid": grid, "ticks": ticks,
            "left": left, "right": width - right, "bottom": height - bottom}


def environment(env: dict) -> tuple[list[tuple[str, str]], dict[str, dict]]:
    host = [(k, str(v)) for k, v in env.items() if k != "implementations"]
    return host, env.get("implementations", {})


def render(history_dir: Path, out: Path, last: int = 14) -> Path:
    """Render the newest ``last`` runs of ``history_dir`` into ``out``; returns index.html."""
    runs = history.load(history_dir, last=last)
    if not runs:
        raise SystemExit(f"no runs in {history_dir} (each run: <UTC time>/results.json)")
    latest, previous = runs[-1], (runs[-2] if len(runs) > 1 else None)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                             autoescape=jinja2.select_autoescape(["html", "j2"]),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["percent"] = lambda v: "–" if v is None else f"{100 * v:.1f}%"
    env.filters["css"] = lambda outcome: (outcome or "none").replace(" ", "-")
    env.globals["check_page"] = check_page

    if out.exists():
        shutil.rmtree(out / "checks", ignore_errors=True)
    (out / "checks").mkdir(parents=True, exist_ok=True)
    host_env, impl_env = environment(latest.environment)
    strip = [{"name": run.name, "counts": analysis.counts(run), "leaks": len(run.leaks),
              "rates": {impl: analysis.pass_rate(run, impl) for impl in run.implementations},
              "latest": run is latest} for run in runs]
    page = env.get_template("index.html.j2").render(
        latest=latest, previous=previous, matrix=analysis.matrix(latest),
        counts=analysis.counts(latest), changes=analysis.changes(previous, latest),
        areas=analysis.area_counts(latest), reasons=analysis.known_by_reason(latest),
        flaky=analysis.flaky(runs), strip=strip, chart=chart(runs), runs=runs,
        host_env=host_env, impl_env=impl_env,
        rates={impl: analysis.pass_rate(latest, impl) for impl in latest.implementations})
    index = out / "index.html"
    index.write_text(page)
    check_template = env.get_template("check.html.j2")
    for (impl, case), record in latest.records.items():
        older = [(run.name, run.records.get((impl, case))) for run in runs]
        (out / check_page(impl, case)).write_text(check_template.render(
            run=latest, impl=impl, case=case, record=record, older=older))
    return index
