"""scripts/check_external_links.py against a local HTTP server (never the network).

The server answers 200, 301 -> 200, 404, 500, redirect loops, a hang, a 503
that recovers, 429, a HEAD-refusing page and a long redirect chain, and counts
every request, so retries (and their absence) are proved by hit counts.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import threading
import time
import tomllib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import ROOT

_spec = importlib.util.spec_from_file_location("check_external_links", ROOT / "scripts" / "check_external_links.py")
links = importlib.util.module_from_spec(_spec)
sys.modules["check_external_links"] = links  # dataclasses look their module up by name
_spec.loader.exec_module(links)

SCRIPT = ROOT / "scripts" / "check_external_links.py"
SITE_URL = "https://example.github.io/ketamine-explained/"
TIMEOUT = 1.0  # for the hang route, which holds a request for a minute
PATIENT = 10.0  # for everything else: a busy test machine must not turn a quick answer into a timeout
FAST = {"timeout": PATIENT, "backoff": 0.01}

# Meant to keep the module-scoped check below on one worker. (pytest 9.2 + xdist 3.8
# ignore the group, so each worker may run that check once; results are the same.)
pytestmark = pytest.mark.xdist_group("external-links")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def do_HEAD(self) -> None:
        self._route(body=False)

    def do_GET(self) -> None:
        self._route(body=True)

    def _send(self, code: int, body: bool, headers: dict[str, str] | None = None) -> None:
        payload = f"{code}\n".encode()
        self.send_response(code)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if body:
            self.wfile.write(payload)

    def _route(self, body: bool) -> None:
        srv = self.server
        path = self.path.split("?")[0]
        with srv.lock:
            srv.hits[path] += 1
            srv.methods[(self.command, path)] += 1
            srv.user_agents.append(self.headers.get("User-Agent", ""))
            count = srv.hits[path]
        if path == "/ok":
            self._send(200, body)
        elif path == "/moved":
            self._send(301, body, {"Location": "/ok"})
        elif path == "/to-gone":
            self._send(302, body, {"Location": "/gone"})
        elif path == "/gone":
            self._send(404, body)
        elif path == "/error":
            self._send(500, body)
        elif path == "/loop":
            self._send(302, body, {"Location": "/loop"})
        elif path in ("/loop-a", "/loop-b"):
            self._send(302, body, {"Location": "/loop-b" if path == "/loop-a" else "/loop-a"})
        elif path == "/hang":
            srv.stop.wait(60)  # far past the client's timeout; released at teardown
            self._send(200, body)
        elif path == "/flaky":
            self._send(503 if count == 1 else 200, body)
        elif path == "/ratelimited":
            self._send(429, body)
        elif path == "/busy":
            self._send(503, body, {"Retry-After": "7"})
        elif path == "/to-ftp":
            self._send(302, body, {"Location": "ftp://files.example/paper.pdf"})
        elif path == "/nohead":
            self._send(405 if self.command == "HEAD" else 200, body)
        elif path.startswith("/chain/"):
            left = int(path.rsplit("/", 1)[1])
            self._send(200, body) if left == 0 else self._send(302, body, {"Location": f"/chain/{left - 1}"})
        elif path == "/slow":
            with srv.lock:
                srv.in_flight += 1
                srv.max_in_flight = max(srv.max_in_flight, srv.in_flight)
            time.sleep(0.3)
            with srv.lock:
                srv.in_flight -= 1
            self._send(200, body)
        else:
            self._send(404, body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a hung handler never keeps pytest alive
    request_queue_size = 128  # every route is asked at once; a full backlog would reset connections

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.methods: Counter[tuple[str, str]] = Counter()
        self.user_agents: list[str] = []
        self.stop = threading.Event()
        self.in_flight = self.max_in_flight = 0

    def handle_error(self, request, client_address) -> None:
        pass  # the client hanging up on /hang is expected

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


def _start() -> _Server:
    server = _Server()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


def _stop(server: _Server) -> None:
    server.stop.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def server():
    srv = _start()
    yield srv
    _stop(srv)


def _closed_port_url() -> str:
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as probe:
        port = probe.server_address[1]
    return f"http://127.0.0.1:{port}/nothing-listens-here"


# --------------------------------------------------------------------------- classification

ROUTES = [
    # path, status, HTTP code, attempts (= requests for the path), words in the detail
    ("/ok", links.OK, 200, 1, "HTTP 200"),
    ("/moved", links.OK, 200, 1, "via redirect to"),
    ("/gone", links.BROKEN, 404, 1, "HTTP 404"),  # never retried
    ("/error", links.BROKEN, 500, 3, "HTTP 500 Internal Server Error (after 3 attempts)"),
    ("/loop", links.BROKEN, 302, 1, "redirect loop"),
    ("/loop-a", links.BROKEN, 302, 1, "redirect loop"),
    ("/hang", links.BROKEN, None, 3, "timed out after 1 s (after 3 attempts)"),
    ("/flaky", links.OK, 200, 2, "succeeded on attempt 2"),
    ("/ratelimited", links.RATE_LIMITED, 429, 3, "rate-limited, not broken"),
    ("/nohead", links.OK, 200, 1, "HTTP 200"),
    ("/chain/9", links.BROKEN, 302, 1, "too many redirects (more than 3)"),
    ("/chain/3", links.OK, 200, 1, "via redirect to"),
    ("/to-ftp", links.BROKEN, 302, 1, "HTTP 302 Found to a non-web address: ftp://files.example/paper.pdf"),
]


@pytest.fixture(scope="module")
def checked():
    """Every route checked once, concurrently; /hang with a 1 s timeout, the rest with a patient one."""
    srv = _start()
    refused = _closed_port_url()
    urls = [srv.url(path) for path, *_ in ROUTES if path != "/hang"] + [refused]
    options = {"per_host": len(urls), "retries": 2, "max_redirects": 3, "backoff": 0.01}

    def check_hang() -> tuple[dict[str, links.Result], float]:
        started = time.monotonic()
        results = links.check_urls([srv.url("/hang")], timeout=TIMEOUT, **options)
        return results, time.monotonic() - started

    with ThreadPoolExecutor(1) as pool:
        hang = pool.submit(check_hang)
        results = links.check_urls(urls, concurrency=len(urls), timeout=PATIENT, **options)
        hang_results, elapsed = hang.result()
    yield srv, results | hang_results, refused, elapsed
    _stop(srv)


@pytest.mark.parametrize(("path", "status", "code", "attempts", "detail"), ROUTES, ids=[r[0] for r in ROUTES])
def test_each_route_is_classified_exactly(checked, path, status, code, attempts, detail):
    srv, results, _, _ = checked
    result = results[srv.url(path)]
    assert (result.status, result.code, result.attempts) == (status, code, attempts), result
    assert detail in result.detail, result.detail
    if not path.startswith(("/loop-a", "/chain/", "/ok")):  # those are reached by other routes too
        assert srv.hits[path] == attempts + (path == "/nohead"), srv.hits  # /nohead: HEAD, then GET


def test_redirects_are_followed_to_the_final_page(checked):
    srv, results, _, _ = checked
    moved = results[srv.url("/moved")]
    assert moved.final_url == srv.url("/ok") and moved.redirected
    assert results[srv.url("/chain/3")].final_url == srv.url("/chain/0")
    loop = results[srv.url("/loop-a")].detail
    assert loop == f"redirect loop: {srv.url('/loop-a')} -> {srv.url('/loop-b')} -> {srv.url('/loop-a')}"
    assert srv.hits["/loop-a"] == srv.hits["/loop-b"] == 1  # a loop is final: not retried
    assert srv.hits["/ok"] == 2  # once itself, once as the target of /moved
    # 3 redirects followed (9 -> 8 -> 7 -> 6), the 4th (6 -> 5) refused; /chain/3 reaches /chain/0.
    assert [srv.hits[f"/chain/{n}"] for n in range(9, -1, -1)] == [1, 1, 1, 1, 0, 0, 1, 1, 1, 1]


def test_refused_head_falls_back_to_get(checked):
    srv, _, _, _ = checked
    assert srv.methods[("HEAD", "/nohead")] == 1 and srv.methods[("GET", "/nohead")] == 1
    assert srv.methods[("GET", "/ok")] == 0  # HEAD is enough when it is answered


def test_hang_fails_within_the_timeout_and_connection_errors_are_retried(checked):
    _, results, refused, elapsed = checked
    # 3 attempts of 1 s each plus tiny backoff. The server would hold each for a minute;
    # the generous upper bound only allows for a busy test machine.
    assert 3 * TIMEOUT <= elapsed < 20, elapsed
    assert results[refused].status == links.BROKEN
    assert results[refused].detail == "connection refused (after 3 attempts)"


def test_requests_carry_a_realistic_user_agent(checked):
    srv, _, _, _ = checked
    assert srv.user_agents and set(srv.user_agents) == {links.USER_AGENT}
    assert links.USER_AGENT.startswith("Mozilla/5.0 ") and "ketamine-explained-linkcheck" in links.USER_AGENT


def test_retries_back_off_exponentially_and_honour_retry_after(server):
    waits: list[float] = []
    result = links.check_url(server.url("/error"), timeout=PATIENT, retries=3, backoff=1.0, sleep=waits.append)
    assert result.attempts == 4 and server.hits["/error"] == 4
    assert all(1 <= w / b <= 1.25 for w, b in zip(waits, (1, 2, 4), strict=True)), waits  # backoff + jitter

    waits.clear()
    result = links.check_url(server.url("/busy"), timeout=PATIENT, retries=2, backoff=0.01, sleep=waits.append)
    assert result.status == links.BROKEN and result.code == 503 and waits == [7.0, 7.0]  # Retry-After: 7


def test_urls_are_interleaved_by_host():
    urls = ["https://doi.org/1", "https://doi.org/2", "https://doi.org/3", "https://a.example/x", "https://b.example/y",
            "https://a.example/z", "https://doi.org/1"]
    assert links.interleave_hosts(urls) == ["https://doi.org/1", "https://a.example/x", "https://b.example/y",
                                            "https://doi.org/2", "https://a.example/z", "https://doi.org/3"]


def test_at_most_per_host_requests_in_flight(server):
    urls = [server.url(f"/slow?n={n}") for n in range(6)]
    results = links.check_urls(urls, concurrency=6, per_host=2, retries=0, **FAST)
    assert all(r.status == links.OK for r in results.values())
    assert server.hits["/slow"] == 6 and 1 <= server.max_in_flight <= 2  # 6 workers, yet never 3 at once


# --------------------------------------------------------------------------- command line


def _run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, str(SCRIPT), *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


def _write_site(tmp_path: Path, srv: _Server, paths: list[str]) -> Path:
    site = tmp_path / "site"
    (site / "history").mkdir(parents=True)
    links_html = "".join(f'<a href="{srv.url(p)}">x</a>' for p in paths)
    (site / "history" / "index.html").write_text(f"<html><body>{links_html}</body></html>", encoding="utf-8")
    (site / "index.html").write_text(f'<a href="{SITE_URL}history/">own page</a>', encoding="utf-8")
    return site


def test_cli_names_every_failing_url_and_where_it_was_found(server, tmp_path):
    _write_site(tmp_path, server, ["/ok", "/moved", "/gone", "/error", "/loop", "/flaky", "/ratelimited"])
    (tmp_path / "refs.bib").write_text(
        "@misc{smith2020,\n  title = {T},\n  url = {" + server.url("/gone") + "},\n}\n", encoding="utf-8")
    (tmp_path / "ignore.yml").write_text("", encoding="utf-8")
    proc = _run_cli("--site-dir", "site", "--site-url", SITE_URL, "--bib", "refs.bib", "--ignore-file", "ignore.yml",
                    "--cache", "cache.json", "--timeout", "10", "--retries", "1", "--backoff", "0.01",
                    "--markdown", "report.md", cwd=tmp_path)
    out = proc.stdout
    assert proc.returncode == 1, proc.stdout + proc.stderr
    page = "site/history/index.html"
    expected = {
        "/gone": f"BROKEN        {server.url('/gone')} — HTTP 404 Not Found — found in "
                 f"refs.bib:3 (smith2020, url), {page}",
        "/error": f"BROKEN        {server.url('/error')} — HTTP 500 Internal Server Error (after 2 attempts) — "
                  f"found in {page}",
        "/loop": f"BROKEN        {server.url('/loop')} — redirect loop: {server.url('/loop')} -> "
                 f"{server.url('/loop')} — found in {page}",
        "/ratelimited": f"RATE-LIMITED  {server.url('/ratelimited')} — HTTP 429 Too Many Requests "
                        f"(rate-limited, not broken) (after 2 attempts) — found in {page}",
    }
    lines = out.splitlines()
    for path, line in expected.items():
        assert line in lines, f"{path}: {line!r} not in\n{out}"
    assert not any(server.url(p) in out for p in ("/ok", "/moved", "/flaky")), out
    assert SITE_URL not in out  # the site's own pages are not external
    assert "7 external URLs: 7 checked, 0 ignored (ignore.yml)" in out
    assert "3 ok (0 from cache, 1 via redirect), 1 rate-limited (not counted as broken), 3 broken" in out
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    gone = server.url("/gone")
    assert f"| broken | <{gone}> | HTTP 404 Not Found | refs.bib:3 (smith2020, url), {page} |" in markdown


def test_cli_gives_up_on_a_hanging_server_after_the_timeout(server, tmp_path):
    started = time.monotonic()
    proc = _run_cli("--no-site", "--no-bib", "--no-cache", "--ignore-file", str(ROOT / "links-ignore.yml"),
                    "--url", server.url("/hang"), "--timeout", "1", "--retries", "1", "--backoff", "0.01", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert (f"BROKEN        {server.url('/hang')} — timed out after 1 s (after 2 attempts) — found in command line"
            in proc.stdout.splitlines())
    assert server.hits["/hang"] == 2 and time.monotonic() - started < 20  # the server would hold each for a minute


def test_cli_exits_0_when_every_url_is_good(server, tmp_path):
    proc = _run_cli("--no-site", "--no-bib", "--no-cache", "--ignore-file", str(ROOT / "links-ignore.yml"),
                    "--url", server.url("/ok"), "--url", server.url("/moved"), "--url", server.url("/ratelimited"),
                    "--timeout", "10", "--retries", "0", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 ok (0 from cache, 1 via redirect), 1 rate-limited (not counted as broken), 0 broken" in proc.stdout
    assert "BROKEN" not in proc.stdout and f"RATE-LIMITED  {server.url('/ratelimited')}" in proc.stdout


def test_cli_reads_an_extra_url_file(server, tmp_path):
    (tmp_path / "urls.txt").write_text(f"# extra\n\n{server.url('/gone')}\n", encoding="utf-8")
    proc = _run_cli("--no-site", "--no-bib", "--no-cache", "--ignore-file", str(ROOT / "links-ignore.yml"),
                    "--url-file", "urls.txt", "--retries", "0", cwd=tmp_path)
    assert proc.returncode == 1
    assert f"BROKEN        {server.url('/gone')} — HTTP 404 Not Found — found in urls.txt:3" in proc.stdout


def test_cache_reuses_successes_and_rechecks_failures(server, tmp_path, capsys):
    cache = tmp_path / ".cache" / "links" / "external.json"
    ignore = tmp_path / "ignore.yml"
    ignore.write_text("[]\n", encoding="utf-8")
    args = ["--no-site", "--no-bib", "--ignore-file", str(ignore), "--cache", str(cache), "--retries", "0",
            "--timeout", "10", "--url", server.url("/ok"), "--url", server.url("/gone")]

    assert links.main(args) == 1
    assert server.hits == Counter({"/ok": 1, "/gone": 1})
    stored = json.loads(cache.read_text(encoding="utf-8"))["urls"]
    assert stored[server.url("/ok")]["status"] == "ok" and stored[server.url("/gone")]["status"] == "broken"
    assert stored[server.url("/ok")]["code"] == 200 and stored[server.url("/gone")]["code"] == 404
    assert abs(stored[server.url("/ok")]["checked_at"] - time.time()) < 60
    assert stored[server.url("/ok")]["checked"].endswith("Z")
    capsys.readouterr()

    assert links.main(args) == 1  # second run: the success comes from the cache, the failure is asked again
    assert server.hits == Counter({"/ok": 1, "/gone": 2})
    assert "1 ok (1 from cache, 0 via redirect)" in capsys.readouterr().out

    stored[server.url("/ok")]["checked_at"] -= 8 * 86400  # older than the default 7 days
    cache.write_text(json.dumps({"version": 1, "urls": stored}), encoding="utf-8")
    assert links.main(args) == 1
    assert server.hits == Counter({"/ok": 2, "/gone": 3})
    assert "1 ok (0 from cache, 0 via redirect)" in capsys.readouterr().out

    before = cache.read_text(encoding="utf-8")
    assert links.main([*args, "--no-cache"]) == 1
    assert server.hits == Counter({"/ok": 3, "/gone": 4})  # --no-cache reads nothing...
    assert cache.read_text(encoding="utf-8") == before  # ...and writes nothing

    assert links.main([*args, "--max-age-days", "0"]) == 1
    assert server.hits["/ok"] == 4


def test_ignore_list_is_honoured_with_its_reason(server, tmp_path):
    (tmp_path / "ignore.yml").write_text(
        "# comment\n"
        "- pattern: '/gone$'\n"
        "  reason: The test page that is meant to be gone.\n"
        "- pattern: '^https://never\\.example/'\n"
        "  reason: Matches nothing.\n",
        encoding="utf-8")
    proc = _run_cli("--no-site", "--no-bib", "--no-cache", "--ignore-file", "ignore.yml", "-v",
                    "--url", server.url("/gone"), "--url", server.url("/ok"), "--url", server.url("/to-gone"),
                    cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert server.hits == Counter({"/ok": 1, "/to-gone": 1})  # the ignored URL is never requested...
    assert "3 external URLs: 2 checked, 1 ignored (ignore.yml)" in proc.stdout
    # ...not even as a redirect target (like doi.org -> a publisher that refuses bots)
    assert (f"ok            {server.url('/to-gone')} — HTTP 302 Found to {server.url('/gone')} "
            "(ignored target, not followed: ignore.yml:2)") in proc.stdout
    assert "  ignored   1 by ignore.yml:2: The test page that is meant to be gone." in proc.stdout
    assert "  ignored   0 by ignore.yml:4: Matches nothing." in proc.stdout
    assert f"ignored       {server.url('/gone')} — ignore.yml:2: The test page that is meant to be gone." in proc.stdout


BAD_IGNORE_FILES = [
    ("- pattern: '^https://a/'\n  reason: fine\n\n- pattern: '^https://b/'\n", "4: entry has no 'reason'"),
    ("- pattern: '^https://a/'\n  reason: '   '\n", "1: entry has no 'reason'"),
    ("- reason: why\n", "1: entry has no 'pattern'"),
    ("- pattern: x\n  reason: why\n  note: extra\n", "3: unknown key 'note' (allowed: pattern, reason)"),
    ("- pattern: x\n  reason: why\n- pattern: '(unclosed'\n  reason: why\n", "3: invalid regex '(unclosed'"),
    ("- pattern: x\n  reason: [a, b]\n", "2: 'reason' must be a string"),
    ("pattern: x\nreason: why\n", "1: expected a list of entries"),
    ("- just a string\n", "1: entry must be a mapping"),
    ("- pattern: x\n  reason: why\n    bad: indent\n", "3: invalid YAML: mapping values are not allowed here"),
    ("- pattern: x\n  reason:\n", "1: entry has no 'reason'"),
    ("- pattern: x\n  pattern: y\n  reason: why\n", "2: duplicate key 'pattern'"),
]


@pytest.mark.parametrize(("text", "message"), BAD_IGNORE_FILES, ids=[m.split(": ", 1)[-1] for _, m in BAD_IGNORE_FILES])
def test_invalid_ignore_file_is_an_error_naming_file_and_line(tmp_path, text, message):
    path = tmp_path / "links-ignore.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(links.ConfigError) as error:
        links.load_ignore_file(path)
    assert str(error.value).startswith(f"{path}:")
    assert message in str(error.value)


def test_cli_exits_2_on_bad_ignore_file_or_missing_site(tmp_path, capsys):
    lines = ["# ignore list", "- pattern: '^https://a/'", "  reason: fine", "", "# no reason below", "",
             "- pattern: '^https://b/'", ""]
    (tmp_path / "links-ignore.yml").write_text("\n".join(lines), encoding="utf-8")
    proc = _run_cli("--no-site", "--no-bib", "--ignore-file", "links-ignore.yml", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: links-ignore.yml:7: entry has no 'reason'"

    proc = _run_cli("--site-dir", "no-such-site", "--no-bib", "--ignore-file", str(ROOT / "links-ignore.yml"),
                    cwd=tmp_path)
    assert proc.returncode == 2 and "no-such-site: no built site here; run `make build` first" in proc.stderr
    for bad in (["--timeout", "soon"], ["--timeout", "0"], ["--concurrency", "0"], ["--retries", "-1"]):
        with pytest.raises(SystemExit) as usage:  # argparse usage error
            links.main(bad)
        assert usage.value.code == 2 and f"argument {bad[0]}" in capsys.readouterr().err, bad


# --------------------------------------------------------------------------- collecting URLs


def test_urls_are_collected_from_html_and_bib_external_only_deduplicated_with_where_found(tmp_path):
    site = tmp_path / "site"
    (site / "history").mkdir(parents=True)
    (site / "index.html").write_text(
        '<html><head><link rel="stylesheet" href="https://cdn.example/a.css">'
        '<link rel="preconnect" href="https://fonts.example">'
        f'<link rel="canonical" href="{SITE_URL}">'
        '<script src="https://cdn.example/a.js"></script></head><body>'
        '<a href="https://doi.org/10.1000/xyz#section">doi</a>'
        f'<a href="{SITE_URL}history/">own page</a>'
        '<a href="http://EXAMPLE.github.io/ketamine-explained/glossary/">own page, other scheme</a>'
        '<a href="history/">relative</a><a href="#top">anchor</a>'
        '<a href="mailto:someone@example.org">mail</a><a href="javascript:void(0)">js</a>'
        '<img src="//images.example/pic.png" alt="">'
        '<picture><source srcset="https://images.example/a.webp 1x, https://images.example/b.webp 2x"></picture>'
        '<a href="https://example.org/search?q=a&amp;b=c">query</a>'
        '</body></html>', encoding="utf-8")
    (site / "history" / "index.html").write_text(
        '<a href="https://doi.org/10.1000/xyz">same DOI again</a>'
        '<a href="https://example.github.io/other-project/">same host, other site</a>', encoding="utf-8")
    bib = tmp_path / "references.bib"
    bib.write_text(
        "@article{one2020,\n"
        "  title    = {One},\n"
        "  doi      = {10.1000/xyz},\n"
        "  verified = {https://pubmed.ncbi.nlm.nih.gov/123/}\n"
        "}\n\n"
        "@misc{two2021,\n"
        "  url      = {https://example.org/a\\_b},\n"
        "  doi      = {10.1000/with space<odd>},\n"
        "  verified = {copied from the printed report}\n"
        "}\n", encoding="utf-8")

    from_site = links.collect_site_urls(site, SITE_URL, label="site")
    assert from_site == {
        "https://cdn.example/a.css": ["site/index.html"],
        "https://cdn.example/a.js": ["site/index.html"],
        "https://doi.org/10.1000/xyz": ["site/history/index.html", "site/index.html"],
        "https://images.example/pic.png": ["site/index.html"],
        "https://images.example/a.webp": ["site/index.html"],
        "https://images.example/b.webp": ["site/index.html"],
        "https://example.org/search?q=a&b=c": ["site/index.html"],
        "https://example.github.io/other-project/": ["site/history/index.html"],
    }
    from_bib = links.collect_bib_urls(bib, label="references.bib")
    assert from_bib == {
        "https://doi.org/10.1000/xyz": ["references.bib:3 (one2020, doi)"],
        "https://pubmed.ncbi.nlm.nih.gov/123/": ["references.bib:4 (one2020, verified)"],
        "https://example.org/a_b": ["references.bib:8 (two2021, url)"],
        "https://doi.org/10.1000/with%20space%3Codd%3E": ["references.bib:9 (two2021, doi)"],
    }
    merged = links.merge_found(from_site, from_bib)
    assert len(merged) == len(from_site) + len(from_bib) - 1  # the DOI is in both
    assert merged["https://doi.org/10.1000/xyz"] == [
        "references.bib:3 (one2020, doi)", "site/history/index.html", "site/index.html"]


def test_real_bibliography_yields_a_doi_org_url_for_every_doi():
    text = (ROOT / "references.bib").read_text(encoding="utf-8")
    found = links.collect_bib_urls(ROOT / "references.bib", label="references.bib")
    dois = {line.split("{", 1)[1].rsplit("}", 1)[0].strip() for line in text.splitlines()
            if line.strip().startswith("doi") and "{" in line}
    assert dois, "references.bib has doi fields"
    for doi in dois:
        url = links.doi_url(doi)
        assert url.startswith("https://doi.org/10.") and url in found, doi
        assert all(place.startswith("references.bib:") and place.endswith(", doi)") for place in found[url])


# --------------------------------------------------------------------------- the real ignore list


def test_real_ignore_list_loads_and_every_entry_has_a_reason():
    rules = links.load_ignore_file(ROOT / "links-ignore.yml")
    assert len(rules) >= 2
    for rule in rules:
        assert len(rule.reason.split()) >= 5, f"links-ignore.yml:{rule.line}: give a reason a newcomer understands"
    edit = "https://github.com/ketamine-explained/ketamine-explained/edit/main/docs/index.md"
    assert links.find_ignore_rule(edit, rules) is not None
    assert links.find_ignore_rule("https://doi.org/10.1001/jamapsychiatry.2013.123", rules) is None  # DOIs checked
    assert links.find_ignore_rule("https://github.com/ketamine-explained/ketamine-explained", rules) is None


def test_real_ignore_list_carries_every_lychee_exclusion():
    lychee = tomllib.loads((ROOT / ".lychee.toml").read_text(encoding="utf-8"))
    patterns = {rule.pattern.pattern for rule in links.load_ignore_file(ROOT / "links-ignore.yml")}
    assert set(lychee.get("exclude", [])) <= patterns
