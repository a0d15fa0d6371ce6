"""The rows-per-run chart of the feeds page (registry.web.ui_feeds.chart)."""

from registry.web.ui_feeds import chart


def _run(rows, status="ok", anomaly=None, error=None, started="2026-12-01T06:00:00Z"):
    return {"rows": rows, "status": status, "anomaly": anomaly, "error": error, "started": started}


def test_bars_are_oldest_first_scaled_to_the_busiest_run():
    runs = [_run(50, started="2026-12-03T06:00:00Z"), _run(100, started="2026-12-02T06:00:00Z"),
            _run(25, started="2026-12-01T06:00:00Z")]  # newest first, as the service lists them
    bars = chart(runs, width=80, height=42)
    assert [b.title.split()[0] for b in bars] == ["2026-12-01", "2026-12-02", "2026-12-03"]
    assert [b.height for b in bars] == [10.0, 40.0, 20.0]
    assert all(b.y + b.height == 42 for b in bars)
    assert bars[0].x < bars[1].x < bars[2].x and bars[2].x + bars[2].width <= 80


def test_failed_runs_stand_out_and_flags_are_coloured():
    bars = chart([_run(0, "failed", error="HTTP 503"), _run(10, anomaly="rows fell from 900 to 10"), _run(0, "not-modified")])
    assert [b.kind for b in bars] == ["other", "flagged", "failed"]
    assert bars[2].height == 58.0 and "HTTP 503" in bars[2].title
    assert "rows fell" in bars[1].title
    assert chart([]) == []
