"""Evaluation benchmark: one `hotspot evaluate`-style evaluation on real police.uk data.

Data: ``../shared/realdata/police_cleveland`` (35 months, ~270,000 rows) read once with
``ingest.read_incidents``; when absent, the synthetic demo borough. Target: a 300 m circle around
the busiest ASB map point; after window 2024-07..2024-12 (demo: 2023-07..2023-12) against the
same months a year earlier; ASB; 250 m ring; control = the rest of the data.

Measured, each in a fresh process (``measure``):

- ``evaluation.evaluate``: counts for target/ring/control on the unique map points, monthly
  series, Poisson/NB rate ratios (target and ring), WDQ/TNE, warnings (statsmodels already
  imported; its one-off import time is reported separately);
- the baseline ``naive counts``: the same six window counts by per-row
  ``GeoSeries.intersects`` on every incident (no unique-point join), no statistics;
- ``hotspot evaluate`` end to end (a subprocess: start-up, reading the CSVs, evaluation,
  markdown), timed only.

Run: ``.venv/bin/python benchmarks/evaluation.py``. Writes the ``evaluation`` section of RESULTS.md.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, measure, write_section  # noqa: E402

REAL = ROOT.parent / "shared" / "realdata" / "police_cleveland"


def load():
    from hotspot_app.io import demo, ingest

    if REAL.is_dir():
        return ingest.read_incidents([REAL]).incidents, "2024-07..2024-12", f"{REAL.name} (real police.uk)", REAL
    d = demo.load()
    return d.incidents, "2023-07..2023-12", "synthetic demo", d.dir / "workspace.gpkg"


def busiest_circle(incidents, radius=300.0):
    from shapely.geometry import Point

    asb = incidents[incidents["kind"] == "asb"]
    xy = asb.geometry.get_coordinates().round(0)
    top = xy.value_counts().index[0]
    return Point(*top).buffer(radius)


def run_evaluate(incidents, target, after):
    from hotspot_app.core import evaluation

    r = evaluation.evaluate(incidents, target, after=after, categories=["asb"])
    return r.to_dict()


def run_naive(incidents, target, after):
    from hotspot_app.core import periods

    after_w = periods.parse_range(after)
    before_w = periods.shift(after_w, -12)
    asb = incidents[incidents["kind"] == "asb"]
    ring = target.buffer(250).difference(target)
    in_t = asb.geometry.intersects(target)
    in_r = asb.geometry.intersects(ring) & ~in_t
    in_c = ~(in_t | in_r)
    out = {}
    for name, m in (("target", in_t), ("buffer", in_r), ("control", in_c)):
        out[name] = {"before": int((m & asb["month"].isin(before_w)).sum()),
                     "after": int((m & asb["month"].isin(after_w)).sum())}
    return out


def main() -> None:
    incidents, after, label, source = load()
    target = busiest_circle(incidents)
    # both methods start with the same modules imported; the import cost is reported apart
    import scipy.stats  # noqa: F401
    import statsmodels.discrete.discrete_model  # noqa: F401
    import statsmodels.genmod.generalized_linear_model  # noqa: F401

    imp = subprocess.run([sys.executable, "-c",
                          "import time; t = time.perf_counter(); import scipy.stats, "
                          "statsmodels.genmod.generalized_linear_model, "
                          "statsmodels.discrete.discrete_model; print(time.perf_counter() - t)"],
                         capture_output=True, text=True, cwd=ROOT)
    t_import = float(imp.stdout.strip() or "nan")
    t_ev, m_ev, res = measure(run_evaluate, incidents, target, after)
    t_nv, m_nv, naive = measure(run_naive, incidents, target, after)
    assert naive["target"] == {"before": res["before"]["count"], "after": res["after"]["count"]}
    assert naive["buffer"] == res["buffer"] and naive["control"] == res["control"]

    import geopandas as gpd

    from hotspot_app.core import settings

    with tempfile.TemporaryDirectory() as tmp:
        area = Path(tmp) / "circle.geojson"
        gpd.GeoDataFrame({"name": ["Busiest ASB point, 300 m"]}, geometry=[target],
                         crs=settings.CRS).to_file(area)
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "hotspot_app.cli", "evaluate", str(source),
                               "--area", str(area), "--after", after, "--category", "asb"],
                              capture_output=True, text=True, cwd=ROOT)
        t_cli = time.perf_counter() - t0
    cli = f"{t_cli:.2f} s" if proc.returncode == 0 else f"failed ({proc.stderr.strip()[:120]})"

    md = f"""## evaluation

{machine()}

Data: {label}, {len(incidents):,} incidents; target: 300 m circle around the busiest ASB point;
ASB, after {after} vs the same months a year earlier; 250 m ring; control = rest of the data.
Target {res['before']['count']} -> {res['after']['count']}, ring {res['buffer']['before']} -> {res['buffer']['after']},
control {res['control']['before']:,} -> {res['control']['after']:,}.

| method | time (s) | peak RSS (MiB) |
|---|---:|---:|
| naive counts (baseline: per-row intersects, counts only) | {t_nv:.3f} | {m_nv:.0f} |
| `evaluation.evaluate` (counts + series + 2 rate-ratio models + WDQ/TNE + warnings) | {t_ev:.3f} | {m_ev:.0f} |

`evaluate` / baseline time ratio: {t_ev / t_nv:.1f}x, with the same modules imported in both (the
extra is the statistics and the monthly series; the counts are identical, asserted). Importing
scipy.stats + statsmodels (once per process, first evaluation only): {t_import:.2f} s. `hotspot evaluate` end to end
(new process, reading {'the 35 CSVs' if REAL.is_dir() else 'the workspace'}, markdown): {cli}.
"""
    write_section("evaluation", md)
    print(md)


if __name__ == "__main__":
    main()
