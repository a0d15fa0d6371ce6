"""STIX export benchmark: ``stream_bundle`` of 1,000,000 indicators written to a file, beside
the stix2 library building and serialising 10,000 of the same Indicators in the same run.

    .venv/bin/python bench/stix_export.py [--indicators N] [--baseline N] [--keep]

The database is bench/lookup.py's (built once through the real submit path, cached in
bench/out/). Memory is sampled while the bundle streams: flat means the resident size does
not grow with the rows written. Target (docs/performance.md): >= 25x the stix2 library, flat memory.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from common import Timer, peak_rss_mb
from lookup import OUT, build, sqlite_path

from registry.domain.tlp import Viewer
from registry.services import stix_export as export
from registry.storage.db import Database

PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE_BYTES / 2**20


def stream_to_file(db: Database, out: Path) -> dict:
    """Write the operator's full bundle; count objects and sample memory as it goes."""
    objects = indicators = size = 0
    samples = []
    start_rss = rss_mb()
    with Timer() as t, db.read() as conn, out.open("wb") as fh:
        for i, chunk in enumerate(export.stream_bundle(conn, Viewer.operator())):
            fh.write(chunk)
            size += len(chunk)
            objects += chunk.count(b'"spec_version":"2.1"')  # every 2.1 object has one, the bundle none
            indicators += chunk.count(b'"type":"indicator"')
            if i % 25 == 0:
                samples.append((indicators, rss_mb()))
    samples.append((indicators, rss_mb()))
    return {"seconds": t.seconds, "objects": objects, "indicators": indicators, "bytes": size,
            "start_rss": start_rss, "samples": samples}


def stix2_baseline(db: Database, count: int) -> dict:
    """The stix2 library's construct + serialise of the first ``count`` Indicators, built from
    the very dicts the export writes (same ids, properties and values)."""
    import orjson
    import stix2

    with db.read() as conn:
        rows = export.iter_objects(conn, Viewer.operator(), page=count)
        dicts = [obj for _, (_, _, obj) in zip(range(count), rows, strict=False)]
    with Timer() as t:
        built = [stix2.Indicator(**d) for d in dicts]
        text = stix2.Bundle(objects=built, allow_custom=True).serialize()
    with Timer() as ours:
        orjson.dumps({"type": "bundle", "id": "bundle--x", "objects": dicts})
    return {"count": len(built), "seconds": t.seconds, "bytes": len(text), "dicts_seconds": ours.seconds}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--indicators", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the written bundle (bench/out/)")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    path = sqlite_path(args.indicators)  # the same cache as bench/lookup.py
    if not path.exists():
        build(path, args.indicators, cidr_share=0.1)
    db = Database(f"sqlite:///{path}")
    with db.read() as conn:
        rows = conn.exec_driver_sql("SELECT count(*) FROM assertion").scalar()
    print(f"database: {rows:,} assertions ({path.name})")

    out = (OUT if args.keep else Path(tempfile.mkdtemp(prefix="bench-stix-"))) / "export.json"
    run = stream_to_file(db, out)
    per_s = run["objects"] / run["seconds"]
    ind_s = run["indicators"] / run["seconds"]
    print(f"stream_bundle: {run['objects']:,} objects ({run['indicators']:,} indicators + their SCOs, identities, "
          f"markings) in {run['seconds']:.1f} s = {per_s:,.0f} objects/s, {ind_s:,.0f} indicators/s; "
          f"{run['bytes'] / 2**20:,.0f} MB written")
    samples = run["samples"]
    marks = [samples[int(len(samples) * f)] for f in (0, 0.25, 0.5, 0.75)] + [samples[-1]]
    print(f"RSS before {run['start_rss']:.0f} MB; while streaming (indicators written: MB) "
          + ", ".join(f"{n:,}: {mb:.0f}" for n, mb in marks)
          + f"; max sampled {max(mb for _, mb in samples):.0f} MB; process peak RSS {peak_rss_mb():.0f} MB")

    base = stix2_baseline(db, args.baseline)
    base_s = base["count"] / base["seconds"]
    print(f"stix2 library: {base['count']:,} Indicators constructed + bundle serialised in {base['seconds']:.2f} s "
          f"= {base_s:,.0f} indicators/s (the same dicts with orjson: {base['dicts_seconds']:.3f} s)")
    print(f"stream_bundle is {ind_s / base_s:.0f}x the stix2 library in indicators/s "
          f"({per_s / base_s:.0f}x in objects/s); target >= 25x, flat memory")
    if not args.keep:
        out.unlink()
    db.dispose()


if __name__ == "__main__":
    main()
