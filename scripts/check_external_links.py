#!/usr/bin/env python3
"""Check every external URL of the site: the built pages and references.bib.

Why this exists: the site cites about a hundred sources, and links rot. A
weekly CI job (.github/workflows/links.yml) runs this script and keeps one
standing issue up to date. It replaces lychee for the *online* check because:

* lychee's exclude list cannot say why a URL is excluded; here every entry of
  ``links-ignore.yml`` must carry a ``reason``, and a missing reason, an
  unknown key or a broken regex is an error naming ``file:line``;
* a failure must say where the URL was found (docs page or references.bib
  line), so it can be fixed without searching;
* references are checked straight from ``references.bib`` (``doi``, ``url``,
  ``verified``), even before a build and including entries no page cites yet;
* 429 "rate-limited" is reported as such (not broken), retries only happen for
  transient failures (5xx, 408, 429, timeouts, connection errors; never 404),
  and successes are cached so re-runs are fast and polite;
* a redirect *to* an ignored URL is not followed: doi.org answering with a
  redirect to a publisher that refuses bots proves the DOI resolves.

How a URL is checked: HEAD (GET when HEAD is refused with 403/405/501),
redirects followed one by one (loops and more than --max-redirects fail), a
per-request --timeout, at most --concurrency requests in flight and at most
--per-host to any one host, --retries with exponential backoff (or the
server's Retry-After, up to a minute). Successes are cached for
--max-age-days in .cache/links/external.json; failures are always rechecked.

lychee still runs offline in the test suite for internal links and #anchors
(.lychee.toml); this script only checks http(s) URLs outside site_url.

Stdlib only, plus PyYAML (already a locked dependency).

Usage:
    .venv/bin/python scripts/check_external_links.py            # site/ + references.bib
    .venv/bin/python scripts/check_external_links.py --no-site  # references only, no build needed
    .venv/bin/python scripts/check_external_links.py --no-site --no-bib --url https://example.org/

Exit status: 0 all reachable (rate-limited counts as reachable), 1 at least one
URL broken, 2 usage or configuration error (bad ignore file, missing site/).
"""

from __future__ import annotations

import argparse
import html.parser
import http.client
import json
import os
import random
import re
import socket
import ssl
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

DEFAULT_SITE_DIR = ROOT / "site"
DEFAULT_BIB = ROOT / "references.bib"
DEFAULT_IGNORE_FILE = ROOT / "links-ignore.yml"
DEFAULT_CACHE = ROOT / ".cache" / "links" / "external.json"
DEFAULT_MKDOCS_YML = ROOT / "mkdocs.yml"

USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 "
    "ketamine-explained-linkcheck/1.0 (+https://github.com/ketamine-explained/ketamine-explained)"
)

OK = "ok"
BROKEN = "broken"
RATE_LIMITED = "rate-limited"

# HEAD refused (or mishandled) by the server: ask again with GET.
HEAD_REFUSED = frozenset({403, 405, 501})
# Worth asking again later; everything else (404, 410, 401, ...) is final.
TRANSIENT_CODES = frozenset({408, 429}) | frozenset(range(500, 600))
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
MAX_RETRY_AFTER = 60.0  # seconds; a longer Retry-After is not waited for
CACHE_VERSION = 1


class ConfigError(Exception):
    """A usage or configuration problem (exit status 2)."""


# --------------------------------------------------------------------------- ignore list


@dataclass(frozen=True)
class IgnoreRule:
    pattern: re.Pattern[str]
    reason: str
    line: int  # 1-based line of the entry in the ignore file

    def matches(self, url: str) -> bool:
        return self.pattern.search(url) is not None


_IGNORE_KEYS = ("pattern", "reason")
_YAML_STR, _YAML_NULL = "tag:yaml.org,2002:str", "tag:yaml.org,2002:null"


def load_ignore_file(path: Path) -> list[IgnoreRule]:
    """Parse links-ignore.yml: a list of ``{pattern: <regex>, reason: <text>}``.

    Raises ConfigError("<file>:<line>: ...") for anything that is not exactly that.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"{path}: cannot read ignore file: {err.strerror or err}") from None

    def fail(line: int, message: str) -> ConfigError:
        return ConfigError(f"{path}:{line}: {message}")

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else 1
        raise fail(line, f"invalid YAML: {err.problem or err}") from None
    if root is None:
        return []
    if not isinstance(root, yaml.SequenceNode):
        raise fail(root.start_mark.line + 1, "expected a list of entries, each with 'pattern' and 'reason'")

    rules: list[IgnoreRule] = []
    for entry in root.value:
        line = entry.start_mark.line + 1
        if not isinstance(entry, yaml.MappingNode):
            raise fail(line, "entry must be a mapping with 'pattern' and 'reason'")
        values: dict[str, str] = {}
        for key_node, value_node in entry.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            key_line = key_node.start_mark.line + 1
            if key not in _IGNORE_KEYS:
                raise fail(key_line, f"unknown key {key!r} (allowed: {', '.join(_IGNORE_KEYS)})")
            if key in values:
                raise fail(key_line, f"duplicate key {key!r}")
            if not isinstance(value_node, yaml.ScalarNode) or value_node.tag not in (_YAML_STR, _YAML_NULL):
                raise fail(key_line, f"{key!r} must be a string")
            values[key] = value_node.value if value_node.tag == _YAML_STR else ""  # `reason:` alone is null
        if not values.get("pattern", "").strip():
            raise fail(line, "entry has no 'pattern'")
        if not values.get("reason", "").strip():
            raise fail(line, "entry has no 'reason'")
        try:
            pattern = re.compile(values["pattern"])
        except re.error as err:
            raise fail(line, f"invalid regex {values['pattern']!r}: {err}") from None
        rules.append(IgnoreRule(pattern=pattern, reason=" ".join(values["reason"].split()), line=line))
    return rules


def find_ignore_rule(url: str, rules: Iterable[IgnoreRule]) -> IgnoreRule | None:
    for rule in rules:
        if rule.matches(url):
            return rule
    return None


# --------------------------------------------------------------------------- collecting URLs

# Attributes that hold a URL a reader's browser will fetch or follow.
_URL_ATTRS = {
    "a": ("href",),
    "area": ("href",),
    "link": ("href",),
    "img": ("src",),
    "script": ("src",),
    "source": ("src",),
    "iframe": ("src",),
    "audio": ("src",),
    "video": ("src", "poster"),
    "track": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "blockquote": ("cite",),
    "q": ("cite",),
}
_SRCSET_TAGS = ("img", "source")
# <link rel=...> values that name an origin, not a page.
_ORIGIN_ONLY_RELS = {"preconnect", "dns-prefetch"}
_META_URL_PROPERTIES = {"og:image", "og:video", "og:audio", "twitter:image"}


def normalize_url(raw: str) -> str | None:
    """The checkable form of an external URL, or None if it is not http(s).

    Strips whitespace and the #fragment (never sent to the server);
    protocol-relative ``//host/path`` becomes https.
    """
    url = raw.strip()
    if url.startswith("//"):
        url = "https:" + url
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return urllib.parse.urlunsplit((parts.scheme.lower(), parts.netloc, parts.path, parts.query, ""))


def is_same_site(url: str, site_url: str | None) -> bool:
    """True for URLs under the site's own site_url (scheme-insensitive)."""
    if not site_url:
        return False
    site = urllib.parse.urlsplit(site_url)
    target = urllib.parse.urlsplit(url)
    if (target.hostname or "").lower() != (site.hostname or "").lower() or target.port != site.port:
        return False
    prefix = site.path.rstrip("/")
    return target.path == prefix or target.path.startswith(prefix + "/") or not prefix


class _UrlParser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value for name, value in attrs if value is not None}
        if tag == "link" and _ORIGIN_ONLY_RELS & set(attributes.get("rel", "").lower().split()):
            return
        for name in _URL_ATTRS.get(tag, ()):
            if name in attributes:
                self.urls.append(attributes[name])
        if tag in _SRCSET_TAGS and "srcset" in attributes:
            for candidate in attributes["srcset"].split(","):
                if candidate.strip():
                    self.urls.append(candidate.split()[0])
        if tag == "meta":
            prop = (attributes.get("property") or attributes.get("name") or "").lower()
            if prop in _META_URL_PROPERTIES and "content" in attributes:
                self.urls.append(attributes["content"])

    handle_startendtag = handle_starttag


def extract_urls_from_html(text: str) -> list[str]:
    """Raw URL attribute values of one HTML document, in document order."""
    parser = _UrlParser()
    parser.feed(text)
    parser.close()
    return parser.urls


Found = dict[str, list[str]]  # URL -> where it was found (sorted, unique)


def _add(found: dict[str, set[str]], raw: str, where: str, site_url: str | None) -> None:
    url = normalize_url(raw)
    if url and not is_same_site(url, site_url):
        found.setdefault(url, set()).add(where)


def collect_site_urls(site_dir: Path, site_url: str | None, label: str | None = None) -> Found:
    """External URLs in ``site_dir/**/*.html`` -> pages they appear on.

    A page is named by its path under the site directory, prefixed by
    ``label`` (default: the directory as given), e.g. ``site/history/index.html``.
    """
    site_dir = Path(site_dir)
    prefix = (label if label is not None else site_dir.as_posix()).rstrip("/")
    found: dict[str, set[str]] = {}
    for page in sorted(site_dir.rglob("*.html")):
        where = f"{prefix}/{page.relative_to(site_dir).as_posix()}" if prefix else page.relative_to(site_dir).as_posix()
        for raw in extract_urls_from_html(page.read_text(encoding="utf-8", errors="replace")):
            _add(found, raw, where, site_url)
    return {url: sorted(places) for url, places in found.items()}


_BIB_ENTRY = re.compile(r"^\s*@\s*(\w+)\s*[{(]\s*([^,\s]+)\s*,")
_BIB_FIELD = re.compile(r"^\s*(doi|url|verified)\s*=\s*(?:\{(.*)\}|\"(.*)\")\s*,?\s*$", re.IGNORECASE)
_LATEX_ESCAPE = re.compile(r"\\([_%&#$~])")


def doi_url(doi: str) -> str:
    doi = doi.strip()
    if re.match(r"(?i)^https?://", doi):
        return doi
    doi = re.sub(r"(?i)^(doi:\s*)", "", doi)
    return "https://doi.org/" + urllib.parse.quote(doi, safe="/:;()[]._-~")


def collect_bib_urls(bib_path: Path, label: str | None = None) -> Found:
    """URLs from the ``doi`` (as https://doi.org/...), ``url`` and ``verified`` fields.

    Where-found is ``references.bib:<line> (<key>, <field>)``.
    """
    bib_path = Path(bib_path)
    name = label if label is not None else bib_path.as_posix()
    found: dict[str, set[str]] = {}
    key = "?"
    for number, line in enumerate(bib_path.read_text(encoding="utf-8").splitlines(), start=1):
        entry = _BIB_ENTRY.match(line)
        if entry:
            key = entry.group(2)
            continue
        match = _BIB_FIELD.match(line)
        if not match:
            continue
        field_name = match.group(1).lower()
        value = _LATEX_ESCAPE.sub(r"\1", (match.group(2) if match.group(2) is not None else match.group(3)).strip())
        if not value:
            continue
        raw = doi_url(value) if field_name == "doi" else value
        _add(found, raw, f"{name}:{number} ({key}, {field_name})", None)
    return {url: sorted(places) for url, places in found.items()}


def collect_url_file(path: Path) -> Found:
    """One URL per line; blank lines and ``#`` comments ignored."""
    found: dict[str, set[str]] = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if line and not line.startswith("#"):
            if normalize_url(line) is None:
                raise ConfigError(f"{path}:{number}: not an http(s) URL: {line!r}")
            _add(found, line, f"{path}:{number}", None)
    return {url: sorted(places) for url, places in found.items()}


def merge_found(*sources: Found) -> Found:
    merged: dict[str, set[str]] = {}
    for source in sources:
        for url, places in source.items():
            merged.setdefault(url, set()).update(places)
    return {url: sorted(places) for url, places in sorted(merged.items())}


def read_site_url(mkdocs_yml: Path) -> str | None:
    try:
        config = yaml.safe_load(Path(mkdocs_yml).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        match = re.search(r"(?m)^site_url:\s*(\S+)", Path(mkdocs_yml).read_text(encoding="utf-8"))
        return match.group(1) if match else None
    return config.get("site_url") if isinstance(config, dict) else None


# --------------------------------------------------------------------------- checking


@dataclass
class Result:
    url: str
    status: str  # OK, BROKEN or RATE_LIMITED
    detail: str  # human-readable: "HTTP 404 Not Found", "redirect loop: ...", ...
    code: int | None = None  # last HTTP status seen, None for network errors
    final_url: str | None = None  # after redirects
    attempts: int = 0
    checked_at: float = 0.0  # epoch seconds
    from_cache: bool = False

    @property
    def redirected(self) -> bool:
        return bool(self.final_url and self.final_url != self.url)


@dataclass
class _Attempt:
    status: str
    detail: str
    code: int | None = None
    final_url: str | None = None
    transient: bool = False
    retry_after: float | None = None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # every hop is followed (and counted) by check_url itself


def _is_loopback(host: str | None) -> bool:
    return (host or "").lower() in ("localhost", "127.0.0.1", "::1")


def _opener(url: str) -> urllib.request.OpenerDirector:
    host = urllib.parse.urlsplit(url).hostname
    proxies = {} if _is_loopback(host) else urllib.request.getproxies()
    context = ssl.create_default_context()
    return urllib.request.build_opener(
        _NoRedirect(), urllib.request.ProxyHandler(proxies), urllib.request.HTTPSHandler(context=context)
    )


@dataclass
class _Response:
    code: int
    reason: str
    location: str | None
    retry_after: str | None


def http_request(url: str, method: str, timeout: float, user_agent: str) -> _Response:
    """One request, no redirects followed, body never read."""
    request = urllib.request.Request(url, method=method, headers={
        "User-Agent": user_agent,
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "Accept-Language": "en;q=0.9",
    })
    try:
        response = _opener(url).open(request, timeout=timeout)
    except urllib.error.HTTPError as err:  # 3xx (redirects are not followed), 4xx, 5xx
        try:
            return _Response(err.code, str(err.reason or ""), err.headers.get("Location"),
                             err.headers.get("Retry-After"))
        finally:
            err.close()
    with response:
        return _Response(response.status, str(response.reason or ""), response.headers.get("Location"),
                         response.headers.get("Retry-After"))


class HostLimiter:
    """At most ``per_host`` requests in flight to any one host."""

    def __init__(self, per_host: int) -> None:
        self.per_host = max(1, per_host)
        self._lock = threading.Lock()
        self._semaphores: dict[str, threading.BoundedSemaphore] = {}

    def __call__(self, url: str) -> threading.BoundedSemaphore:
        host = (urllib.parse.urlsplit(url).hostname or "").lower()
        with self._lock:
            return self._semaphores.setdefault(host, threading.BoundedSemaphore(self.per_host))


def _network_error(err: BaseException, timeout: float) -> _Attempt:
    reason = err.reason if isinstance(err, urllib.error.URLError) else err
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return _Attempt(BROKEN, f"timed out after {timeout:g} s", transient=True)
    if isinstance(reason, ssl.SSLCertVerificationError):
        return _Attempt(BROKEN, f"TLS certificate error: {reason.verify_message or reason}")
    if isinstance(reason, ssl.SSLError):
        return _Attempt(BROKEN, f"TLS error: {reason}", transient=True)
    if isinstance(reason, ConnectionRefusedError):
        return _Attempt(BROKEN, "connection refused", transient=True)
    if isinstance(reason, socket.gaierror):
        return _Attempt(BROKEN, f"host not found: {reason.strerror or reason}", transient=True)
    text = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
    return _Attempt(BROKEN, f"connection error: {text}", transient=True)


def _one_attempt(url: str, *, timeout: float, max_redirects: int, user_agent: str, limiter: HostLimiter,
                 request: Callable[..., _Response], stop_at: Callable[[str], str | None]) -> _Attempt:
    current = url
    seen = [url]
    method = "HEAD"
    while True:
        try:
            with limiter(current):
                response = request(current, method, timeout, user_agent)
                if method == "HEAD" and response.code in HEAD_REFUSED:
                    method = "GET"  # refused HEAD: ask like a browser; GET for the rest of the chain
                    response = request(current, method, timeout, user_agent)
        except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as err:
            if isinstance(err, ValueError) and not isinstance(err, OSError):
                return _Attempt(BROKEN, f"invalid URL {current!r}: {err}", final_url=current)
            if isinstance(err, http.client.HTTPException):
                attempt = _Attempt(BROKEN, f"bad HTTP response: {type(err).__name__}", transient=True)
            else:
                attempt = _network_error(err, timeout)
            attempt.final_url = current
            if current != url:
                attempt.detail += f" (at {current})"
            return attempt
        code = response.code
        label = f"HTTP {code} {response.reason}".rstrip()
        if code in REDIRECT_CODES:
            if not response.location:
                return _Attempt(BROKEN, f"{label} without a Location header", code, current)
            target = urllib.parse.urljoin(current, response.location.strip())
            if urllib.parse.urlsplit(target).scheme.lower() not in ("http", "https"):
                return _Attempt(BROKEN, f"{label} to a non-web address: {target}", code, target)
            target_key = urllib.parse.urldefrag(target)[0]
            if target_key in (urllib.parse.urldefrag(u)[0] for u in seen):
                chain = " -> ".join(seen + [target])
                return _Attempt(BROKEN, f"redirect loop: {chain}", code, target)
            ignored_by = stop_at(target)
            if ignored_by:  # e.g. doi.org -> a publisher that refuses bots: the DOI resolved, that is the check
                return _Attempt(OK, f"{label} to {target} (ignored target, not followed: {ignored_by})", code, target)
            if len(seen) > max_redirects:
                return _Attempt(BROKEN, f"too many redirects (more than {max_redirects})", code, target)
            seen.append(target)
            current = target
            if code == 303:
                method = "GET"
            continue
        if 200 <= code < 300:
            return _Attempt(OK, label if current == url else f"{label} via redirect to {current}", code, current)
        if code == 429:
            return _Attempt(RATE_LIMITED, f"{label} (rate-limited, not broken)", code, current, transient=True,
                            retry_after=_parse_retry_after(response.retry_after))
        detail = label if current == url else f"{label} at {current} (redirected)"
        return _Attempt(BROKEN, detail, code, current, transient=code in TRANSIENT_CODES,
                        retry_after=_parse_retry_after(response.retry_after) if code == 503 else None)


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError):
        return None


def check_url(url: str, *, timeout: float = 20.0, retries: int = 2, backoff: float = 1.0,
              max_redirects: int = 10, user_agent: str = USER_AGENT, limiter: HostLimiter | None = None,
              request: Callable[..., _Response] = http_request, sleep: Callable[[float], None] = time.sleep,
              stop_at: Callable[[str], str | None] = lambda url: None) -> Result:
    """Check one URL: HEAD (GET if HEAD is refused), follow redirects, retry transient failures.

    ``retries`` is the number of *extra* attempts after the first; the wait before
    retry n is ``backoff * 2**(n-1)`` (+ up to 25% jitter), or the server's
    Retry-After when it asks for longer (capped at MAX_RETRY_AFTER seconds).
    A redirect to a URL for which ``stop_at`` returns a note (an ignored URL)
    counts as success and is not followed.
    """
    limiter = limiter or HostLimiter(2)
    attempts = 0
    while True:
        attempts += 1
        outcome = _one_attempt(url, timeout=timeout, max_redirects=max_redirects, user_agent=user_agent,
                               limiter=limiter, request=request, stop_at=stop_at)
        if not outcome.transient or attempts > retries:
            break
        delay = backoff * 2 ** (attempts - 1) * (1 + random.random() / 4)
        if outcome.retry_after is not None:
            delay = max(delay, min(outcome.retry_after, MAX_RETRY_AFTER))
        sleep(delay)
    detail = outcome.detail
    if outcome.transient and attempts > 1:
        detail += f" (after {attempts} attempts)"
    elif outcome.status == OK and attempts > 1:
        detail += f" (succeeded on attempt {attempts})"
    return Result(url=url, status=outcome.status, detail=detail, code=outcome.code, final_url=outcome.final_url,
                  attempts=attempts, checked_at=time.time())


def check_urls(urls: Iterable[str], *, concurrency: int = 8, per_host: int = 2, **options) -> dict[str, Result]:
    """Check many URLs on a bounded thread pool; at most ``per_host`` requests in flight per host."""
    urls = interleave_hosts(urls)
    limiter = HostLimiter(per_host)
    if not urls:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(urls)))) as pool:
        futures = {url: pool.submit(check_url, url, limiter=limiter, **options) for url in urls}
        return {url: future.result() for url, future in futures.items()}


def interleave_hosts(urls: Iterable[str]) -> list[str]:
    """Round-robin over hosts, so ninety doi.org links do not occupy every worker while they queue for doi.org."""
    by_host: dict[str, list[str]] = {}
    for url in dict.fromkeys(urls):
        by_host.setdefault((urllib.parse.urlsplit(url).hostname or "").lower(), []).append(url)
    queues = list(by_host.values())
    return [queue[i] for i in range(max(map(len, queues), default=0)) for queue in queues if i < len(queue)]


# --------------------------------------------------------------------------- cache


class Cache:
    """JSON file of per-URL results. Only successes younger than ``max_age`` seconds are reused."""

    def __init__(self, path: Path | None, max_age: float) -> None:
        self.path = Path(path) if path else None
        self.max_age = max_age
        self.entries: dict[str, dict] = {}
        self.warning: str | None = None
        if self.path and self.path.exists():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                if data.get("version") == CACHE_VERSION and isinstance(data.get("urls"), dict):
                    self.entries = data["urls"]
                else:
                    self.warning = f"{self.path}: unknown cache format, starting afresh"
            except (OSError, ValueError, AttributeError) as err:
                self.warning = f"{self.path}: unreadable cache ({err}), starting afresh"

    def get(self, url: str, now: float | None = None) -> Result | None:
        entry = self.entries.get(url)
        if not entry or entry.get("status") != OK:
            return None  # failures (and rate limits) are always rechecked
        now = time.time() if now is None else now
        if not isinstance(entry.get("checked_at"), (int, float)) or now - entry["checked_at"] > self.max_age:
            return None
        fields = {name: entry.get(name) for name in ("status", "detail", "code", "final_url", "attempts", "checked_at")}
        return Result(url=url, from_cache=True, **fields)

    def put(self, result: Result) -> None:
        if result.from_cache:
            return
        entry = asdict(result)
        del entry["url"], entry["from_cache"]
        entry["checked"] = datetime.fromtimestamp(result.checked_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.entries[result.url] = entry

    def save(self) -> None:
        if not self.path:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
        data = {"version": CACHE_VERSION, "urls": dict(sorted(self.entries.items()))}
        temporary.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(temporary, self.path)


# --------------------------------------------------------------------------- report


@dataclass
class Report:
    found: Found
    results: dict[str, Result]
    ignored: dict[str, IgnoreRule] = field(default_factory=dict)
    rules: list[IgnoreRule] = field(default_factory=list)
    ignore_file: str = "links-ignore.yml"

    def by_status(self, status: str) -> list[Result]:
        return [r for url, r in sorted(self.results.items()) if r.status == status]

    @property
    def exit_code(self) -> int:
        return 1 if self.by_status(BROKEN) else 0


def _places(places: list[str], limit: int = 4) -> str:
    shown = ", ".join(places[:limit])
    return shown + (f" and {len(places) - limit} more" if len(places) > limit else "")


def summary_lines(report: Report) -> list[str]:
    ok, limited, broken = report.by_status(OK), report.by_status(RATE_LIMITED), report.by_status(BROKEN)
    cached = sum(r.from_cache for r in ok)
    redirected = sum(r.redirected for r in ok)
    lines = [
        (f"{len(report.found)} external URLs: {len(report.results)} checked, "
         f"{len(report.ignored)} ignored ({report.ignore_file})"),
        (f"  {len(ok)} ok ({cached} from cache, {redirected} via redirect), "
         f"{len(limited)} rate-limited (not counted as broken), {len(broken)} broken"),
    ]
    counts: dict[int, int] = {}
    for rule in report.ignored.values():
        counts[rule.line] = counts.get(rule.line, 0) + 1
    for rule in report.rules:
        lines.append(f"  ignored {counts.get(rule.line, 0):>3} by {report.ignore_file}:{rule.line}: {rule.reason}")
    return lines


def format_report(report: Report, verbose: bool = False) -> str:
    """One line per broken or rate-limited URL (what, why, where found), then the summary."""
    lines: list[str] = []
    for result in report.by_status(BROKEN):
        lines.append(f"BROKEN        {result.url} — {result.detail} — found in "
                     f"{_places(report.found.get(result.url, []))}")
    for result in report.by_status(RATE_LIMITED):
        lines.append(f"RATE-LIMITED  {result.url} — {result.detail} — found in "
                     f"{_places(report.found.get(result.url, []))}")
    if verbose:
        for result in report.by_status(OK):
            cached = " [cached]" if result.from_cache else ""
            lines.append(f"ok            {result.url} — {result.detail}{cached}")
        for url, rule in sorted(report.ignored.items()):
            lines.append(f"ignored       {url} — {report.ignore_file}:{rule.line}: {rule.reason}")
    if lines:
        lines.append("")
    return "\n".join(lines + summary_lines(report))


def format_markdown(report: Report) -> str:
    """The same report as Markdown (for the weekly CI issue)."""
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    out = ["## External link check", ""]
    problems = report.by_status(BROKEN) + report.by_status(RATE_LIMITED)
    if problems:
        out += ["| Status | URL | Problem | Found in |", "|---|---|---|---|"]
        for result in problems:
            status = "broken" if result.status == BROKEN else "rate-limited (not broken)"
            places = cell(_places(report.found.get(result.url, []), limit=10))
            out.append(f"| {status} | <{result.url}> | {cell(result.detail)} | {places} |")
        out.append("")
    out += ["```", *summary_lines(report), "```"]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- command line


def run(found: Found, rules: list[IgnoreRule], cache: Cache | None, *, concurrency: int = 8, per_host: int = 2,
        ignore_file: str = "links-ignore.yml", **options) -> Report:
    """Apply the ignore list, reuse fresh cached successes, check the rest, update the cache.

    Ignored URLs are not requested, and a redirect *to* an ignored URL is not
    followed (it counts as ok: doi.org resolving to a bot-refusing publisher).
    """
    ignored: dict[str, IgnoreRule] = {}
    results: dict[str, Result] = {}
    to_check: list[str] = []
    for url in found:
        rule = find_ignore_rule(url, rules)
        if rule:
            ignored[url] = rule
            continue
        cached = cache.get(url) if cache else None
        if cached:
            results[url] = cached
        else:
            to_check.append(url)

    def stop_at(url: str) -> str | None:
        rule = find_ignore_rule(url, rules)
        return f"{ignore_file}:{rule.line}" if rule else None

    results.update(check_urls(to_check, concurrency=concurrency, per_host=per_host, stop_at=stop_at, **options))
    if cache:
        for result in results.values():
            cache.put(result)
        cache.save()
    return Report(found=found, results=dict(sorted(results.items())), ignored=ignored, rules=rules,
                  ignore_file=ignore_file)


def _number(kind: type, minimum: float, inclusive: bool = True) -> Callable[[str], float]:
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value < minimum or (value == minimum and not inclusive):
            raise argparse.ArgumentTypeError(f"must be {'at least' if inclusive else 'more than'} {minimum}: {text}")
        return value
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="check_external_links.py",
        description="Check every external URL of the built site and references.bib "
                    "(retries, cache, ignore list with reasons).",
        epilog="Exit status: 0 all reachable, 1 some URL broken, 2 usage or configuration error.",
    )
    sources = parser.add_argument_group("what to check")
    sources.add_argument("--site-dir", type=Path, default=DEFAULT_SITE_DIR,
                         help="built site to scan for <a href>, <img src>, ... (default: site/)")
    sources.add_argument("--no-site", action="store_true", help="do not scan the built site")
    sources.add_argument("--site-url", help="URLs under this prefix are the site's own and are skipped "
                                            "(default: site_url from mkdocs.yml)")
    sources.add_argument("--bib", type=Path, default=DEFAULT_BIB,
                         help="BibTeX file whose doi/url/verified fields are checked (default: references.bib)")
    sources.add_argument("--no-bib", action="store_true", help="do not read the bibliography")
    sources.add_argument("--url", action="append", default=[], metavar="URL", help="also check URL (repeatable)")
    sources.add_argument("--url-file", action="append", type=Path, default=[], metavar="FILE",
                         help="also check the URLs in FILE, one per line, # comments (repeatable)")
    sources.add_argument("--ignore-file", type=Path, default=DEFAULT_IGNORE_FILE,
                         help="ignore list: entries with 'pattern' (regex) and 'reason' (default: links-ignore.yml)")

    behaviour = parser.add_argument_group("how to check")
    behaviour.add_argument("--timeout", type=_number(float, 0, inclusive=False), default=20.0, help="seconds per request (default 20)")
    behaviour.add_argument("--retries", type=_number(int, 0), default=2,
                           help="extra attempts for transient failures: 5xx, 408, 429, timeouts, connection errors "
                                "(default 2; 404 and other 4xx are never retried)")
    behaviour.add_argument("--backoff", type=_number(float, 0), default=2.0,
                           help="seconds before the first retry, doubled each time (default 2)")
    behaviour.add_argument("--max-redirects", type=_number(int, 0), default=10, help="default 10")
    behaviour.add_argument("--concurrency", type=_number(int, 1), default=8, help="requests in flight (default 8)")
    behaviour.add_argument("--per-host", type=_number(int, 1), default=2,
                           help="requests in flight to one host (default 2)")
    behaviour.add_argument("--user-agent", default=USER_AGENT, help=argparse.SUPPRESS)

    cache = parser.add_argument_group("cache")
    cache.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                       help="JSON cache of results (default: .cache/links/external.json)")
    cache.add_argument("--max-age-days", type=_number(float, 0), default=7.0,
                       help="reuse cached successes younger than this (default 7); failures are always rechecked")
    cache.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")

    output = parser.add_argument_group("output")
    output.add_argument("-v", "--verbose", action="store_true", help="also list every ok and ignored URL")
    output.add_argument("--markdown", type=Path, metavar="FILE", help="also write the report as Markdown to FILE")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        rules = load_ignore_file(args.ignore_file)
        sources: list[Found] = []
        if not args.no_site:
            if not args.site_dir.is_dir():
                raise ConfigError(f"{args.site_dir}: no built site here; run `make build` first, or pass --no-site")
            site_url = args.site_url if args.site_url is not None else read_site_url(DEFAULT_MKDOCS_YML)
            sources.append(collect_site_urls(args.site_dir, site_url, label=_display(args.site_dir)))
        if not args.no_bib:
            if not args.bib.is_file():
                raise ConfigError(f"{args.bib}: bibliography not found; pass --bib FILE or --no-bib")
            sources.append(collect_bib_urls(args.bib, label=_display(args.bib)))
        for path in args.url_file:
            if not path.is_file():
                raise ConfigError(f"{path}: URL file not found")
            sources.append(collect_url_file(path))
        command_line: dict[str, list[str]] = {}
        for raw in args.url:
            url = normalize_url(raw)
            if url is None:
                raise ConfigError(f"--url {raw!r}: not an http(s) URL")
            command_line[url] = ["command line"]
        sources.append(command_line)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

    found = merge_found(*sources)
    cache = None if args.no_cache else Cache(args.cache, max_age=args.max_age_days * 86400)
    if cache and cache.warning:
        print(f"warning: {cache.warning}", file=sys.stderr)
    print(f"Checking {len(found)} external URLs...", file=sys.stderr, flush=True)
    report = run(found, rules, cache, concurrency=args.concurrency, per_host=args.per_host,
                 ignore_file=_display(args.ignore_file), timeout=args.timeout, retries=args.retries,
                 backoff=args.backoff, max_redirects=args.max_redirects, user_agent=args.user_agent)
    print(format_report(report, verbose=args.verbose))
    if args.markdown:
        args.markdown.write_text(format_markdown(report), encoding="utf-8")
    return report.exit_code


def _display(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when possible."""
    path = Path(path)
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


if __name__ == "__main__":
    sys.exit(main())
