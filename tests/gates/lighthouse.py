"""Lighthouse gate: pinned npm ``lighthouse`` + Debian's chromium on a built site served on 127.0.0.1.

``serve`` publishes a site directory the way GitHub Pages does (under the path
of ``site_url``, text compressed with gzip, ``Cache-Control: max-age=600``), so
the scores are those of the deployed site, not of an uncompressed local copy.
``audit`` runs Lighthouse (desktop preset) on one page; ``problems`` lists each
category below its bar with the audits that fail in it; ``write_report`` records
the scores in reports/.

Accessibility, best practices and SEO are deterministic: one run decides.
Performance is timed, so it varies with the machine's load: when a run is below
the bar, two more performance runs are made and the median of the three counts
(Lighthouse's own advice on variability). The bar itself never moves.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import gzip
import http.server
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from gates import NODE_MODULES, GateSetupError, require

LIGHTHOUSE_CLI = NODE_MODULES / "lighthouse" / "cli" / "index.js"
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROME_FLAGS = ("--headless=new --no-sandbox --disable-gpu --disable-background-networking "
                "--disable-component-update --disable-sync --no-first-run --disable-quic")
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
REQUIRED = {"performance": 95, "accessibility": 100, "best-practices": 100, "seo": 100}
PERFORMANCE_RUNS = 3  # at most, and only when the first run is below the bar
METRICS = ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time",
           "cumulative-layout-shift", "speed-index")
_COMPRESSED = ("text/", "application/json", "application/javascript", "application/xml", "image/svg+xml")
# Held during each run, so two runs (other pytest-xdist workers, other sessions) never share the CPU.
LOCK_FILE = Path(tempfile.gettempdir()) / "ketamine-explained-lighthouse.lock"


# --- serving ----------------------------------------------------------------

class _PagesHandler(http.server.SimpleHTTPRequestHandler):
    prefix = "/"

    def log_message(self, *args):
        pass

    def do_GET(self):
        url_path = unquote(urlsplit(self.path).path)
        root = Path(self.directory).resolve()
        path = (root / url_path[len(self.prefix):]).resolve()
        if not url_path.startswith(self.prefix) or not path.is_relative_to(root):
            self.send_error(404)
            return
        if path.is_dir():
            if not url_path.endswith("/"):
                self.send_response(301)
                self.send_header("Location", url_path + "/")
                self.end_headers()
                return
            path = path / "index.html"
        if not path.is_file():
            self.send_error(404)
            return
        body = path.read_bytes()
        ctype = self.guess_type(str(path))
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Cache-Control", "max-age=600")
        if ctype.startswith(_COMPRESSED) and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body, compresslevel=6)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def serve(site_dir: Path, prefix: str = "/"):
    """Serve ``site_dir`` at http://127.0.0.1:<free port><prefix>, like GitHub Pages; yields that base URL."""
    prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
    handler = type("Handler", (_PagesHandler,), {"prefix": prefix})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: handler(*a, directory=str(site_dir)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    finally:
        server.shutdown()
        server.server_close()


# --- running ----------------------------------------------------------------

def run_lighthouse(url: str, categories=CATEGORIES) -> dict:
    """One Lighthouse run (desktop preset) on ``url``: the JSON result (LHR)."""
    cli = require(LIGHTHOUSE_CLI, "Lighthouse (npm package lighthouse)")
    node = shutil.which("node")
    if not node:
        raise GateSetupError("node not found: scripts/system-deps.sh installs Debian's nodejs and npm")
    if not os.path.exists(CHROMIUM):
        raise GateSetupError(f"{CHROMIUM} not found: `make test` installs Debian's chromium (scripts/system-deps.sh)")
    with open(LOCK_FILE, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        proc = subprocess.run(
            [node, str(cli), url, "--quiet", "--preset=desktop", "--output=json", "--output-path=stdout",
             f"--only-categories={','.join(categories)}", f"--chrome-flags={CHROME_FLAGS}"],
            capture_output=True, text=True, timeout=300, env={**os.environ, "CHROME_PATH": CHROMIUM},
        )
    try:
        lhr = json.loads(proc.stdout)
    except ValueError as exc:
        raise RuntimeError(f"Lighthouse gave no JSON report (exit {proc.returncode}) for {url}:\n"
                           f"{proc.stderr[-3000:]}") from exc
    if lhr.get("runtimeError"):
        raise RuntimeError(f"Lighthouse could not audit {url}: {lhr['runtimeError']}")
    return lhr


def scores(lhr: dict) -> dict[str, int]:
    """Category scores out of 100 (a category Lighthouse could not score counts as 0)."""
    return {cid: round((cat.get("score") or 0) * 100) for cid, cat in lhr["categories"].items()}


def failing_audits(lhr: dict, category: str) -> list[str]:
    """Ids of the scored audits of ``category`` that did not pass, worst first."""
    failing = []
    for ref in lhr["categories"][category]["auditRefs"]:
        audit = lhr["audits"][ref["id"]]
        if ref.get("weight", 0) > 0 and audit.get("score") is not None and audit["score"] < 1:
            failing.append((audit["score"], ref["id"]))
        elif audit.get("scoreDisplayMode") == "error":
            failing.append((0, f"{ref['id']} (error: {audit.get('errorMessage', '')})"))
    return [audit_id for _, audit_id in sorted(failing)]


@dataclass
class PageResult:
    page: str
    url: str
    scores: dict[str, int]
    failing: dict[str, list[str]]
    metrics: dict[str, float]
    performance_runs: list[int] = field(default_factory=list)
    lighthouse_version: str = ""
    chrome: str = ""
    fetched: str = ""
    benchmark_index: float = 0  # Lighthouse's measure of this machine's CPU speed at the time
    warnings: list[str] = field(default_factory=list)


def audit(base_url: str, page: str, categories=CATEGORIES, required=REQUIRED) -> PageResult:
    """Lighthouse on ``base_url + page``; performance re-measured (median of 3) only if the first run misses its bar."""
    url = base_url + page
    lhr = run_lighthouse(url, categories)
    result = PageResult(
        page=page or "/", url=urlsplit(url).path, scores=scores(lhr),  # the path: the port changes every run
        failing={cid: failing_audits(lhr, cid) for cid in lhr["categories"]},
        metrics={m: round(lhr["audits"][m]["numericValue"], 3) for m in METRICS if m in lhr["audits"]},
        lighthouse_version=lhr["lighthouseVersion"], chrome=lhr["environment"]["hostUserAgent"],
        fetched=lhr["fetchTime"], benchmark_index=lhr["environment"].get("benchmarkIndex", 0),
        warnings=list(lhr.get("runWarnings", [])),
    )
    if "performance" in result.scores:
        runs = [result.scores["performance"]]
        while runs[0] < required["performance"] and len(runs) < PERFORMANCE_RUNS:
            again = run_lighthouse(url, ("performance",))
            runs.append(scores(again)["performance"])
        result.performance_runs = runs
        result.scores["performance"] = round(statistics.median(runs))
    return result


def problems(result: PageResult, required=REQUIRED) -> list[str]:
    """One line per category below its bar, naming the audits that fail in it."""
    out = []
    for category, bar in required.items():
        if category not in result.scores:
            continue
        score = result.scores[category]
        if score < bar:
            runs = f" (median of runs {result.performance_runs})" if category == "performance" and len(
                result.performance_runs) > 1 else ""
            audits = ", ".join(result.failing.get(category, [])) or "no single audit failed"
            out.append(f"{result.page}: {category} {score} < {bar}{runs}; failing audits: {audits}")
    return out


# --- reporting --------------------------------------------------------------

def write_report(results: list[PageResult], reports_dir: Path, required=REQUIRED) -> None:
    """reports/lighthouse.json (scores, failing audits, metrics per page) and a short reports/lighthouse.md table."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    first = results[0]
    date = dt.datetime.fromisoformat(first.fetched.replace("Z", "+00:00")).date().isoformat()
    data = {
        "date": date,
        "lighthouse": first.lighthouse_version,
        "chrome": first.chrome,
        "preset": "desktop",
        "required": required,
        "pages": [asdict(r) for r in results],
    }
    (reports_dir / "lighthouse.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    lines = [
        "# Lighthouse scores",
        "",
        "Written by `tests/test_lighthouse.py` (desktop preset, Debian chromium, the built site served on "
        "127.0.0.1 like GitHub Pages). Required: performance ≥ 95, the others 100. "
        "Details per page in `lighthouse.json`.",
        "",
        "| Page | Performance | Accessibility | Best practices | SEO | Date | Lighthouse |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in results:
        s = r.scores
        lines.append(f"| `{r.page}` | {s.get('performance', '–')} | {s.get('accessibility', '–')} | "
                     f"{s.get('best-practices', '–')} | {s.get('seo', '–')} | {date} | {r.lighthouse_version} |")
    (reports_dir / "lighthouse.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
