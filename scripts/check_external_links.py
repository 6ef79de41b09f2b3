#!/usr/bin/env python3
"""`make links`: lychee checks every external URL of the built site and of references.bib.

lychee does the checking: cache, retries, per-host limits, accepted statuses, the DOI remap and the
Markdown report are set in .lychee.toml, and the URLs it skips are in .lycheeignore, each with its
reason. This script adds only the three things lychee cannot do by itself:

* references.bib holds DOIs, not links, and lychee does not read BibTeX. The script writes
  .cache/links/references.bib.txt, whose line N holds the URLs of references.bib's line N (a ``doi``
  field as https://doi.org/..., ``url`` and ``verified`` fields), read by the build's own bibliography
  reader (sitekit.bibfile). So lychee's "(at N:1)" for that file means references.bib line N.
* Without a network lychee reports every URL as broken, hundreds of "host not found". The script first
  opens one connection to doi.org:443 (or to the proxy named by HTTPS_PROXY/ALL_PROXY, which lychee
  would use); if that fails it says so in one message and checks nothing.
* lychee retries a timeout or a refused connection, but a server error (500, 502, 503, 504) is final at
  once (lychee 0.24 retries no status but 429), and a 503 is most often a server busy for a moment. So
  when some link fails, the script runs lychee once more after ``--recheck-after`` seconds (30): the
  successes come from lychee's cache, so only the failures are asked again, and that second report
  (and exit status) is the result; the first report is not shown. Without the cache
  (``--cache=false``) nothing is asked twice.

Usage:
    scripts/check_external_links.py [--site-dir site] [--no-site] [--bib references.bib]
                                    [--recheck-after SECONDS] [--no-recheck] [LYCHEE OPTION...]

Any option it does not know goes to lychee, e.g. ``--output links.md`` (the weekly CI), ``-v``,
``--format json``, ``--cache=false``. It runs lychee in the current directory, where lychee finds
.lycheeignore and keeps its cache, .lycheecache; `make links` runs it in the repository root.

Exit status: lychee's (0 every link works; 2 some link is broken; 1 or 3 lychee failed or its
configuration is wrong), 3 when the site or references.bib cannot be read, 4 when there is no network.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import time
import tomllib
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "overrides" / "hooks"))

from sitekit import bibfile  # noqa: E402  (the build's bibliography reader)
from sitekit.errors import SiteError  # noqa: E402

LYCHEE = Path(sys.executable).parent / "lychee"
BIB_URLS = Path(".cache/links/references.bib.txt")
PROBE = "doi.org:443"  # the host with the most links (every reference's DOI)
BAD_INPUT, NO_NETWORK = 3, 4
BROKEN = 2  # lychee's exit status when some link failed
_TEX_ESCAPE = re.compile(r"\\([_%&#$])")  # \_ in a BibTeX URL is _ in the URL


def doi_url(doi: str) -> str:
    """https://doi.org/ + the DOI, percent-encoded where a URL needs it."""
    return "https://doi.org/" + urllib.parse.quote(doi, safe="/:;()[]._-~")


def bib_urls(text: str, path: str = "references.bib") -> dict[int, list[str]]:
    """references.bib line -> the URLs of the doi, url and verified fields written on it."""
    lines: dict[int, list[str]] = {}
    for entry in bibfile.parse(text, path):
        for name in ("doi", "url", "verified"):
            field = entry.fields.get(name)
            value = _TEX_ESCAPE.sub(r"\1", field.value.strip()) if field else ""
            url = doi_url(value) if name == "doi" and value else value
            if url.startswith(("https://", "http://")):
                lines.setdefault(field.line, []).append(url)
    return lines


def write_bib_urls(lines: dict[int, list[str]], out: Path) -> None:
    """Line N of ``out`` holds the URLs of line N of the bibliography (blank lines elsewhere)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(" ".join(lines.get(n, ())) + "\n" for n in range(1, max(lines, default=0) + 1)),
                   encoding="utf-8")


def probe_target(environ: dict[str, str]) -> str:
    """Where lychee's first request would go: the HTTPS proxy if one is set, else doi.org:443."""
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        proxy = urllib.parse.urlsplit(environ.get(name) or "")
        if proxy.hostname:
            return f"{proxy.hostname}:{proxy.port or (443 if proxy.scheme == 'https' else 80)}"
    return PROBE


def network_problem(target: str, timeout: float = 5.0) -> str | None:
    """None if a TCP connection to ``host:port`` opens; otherwise what went wrong, in words."""
    host, _, port = target.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return None
    except socket.gaierror as exc:
        return f"cannot resolve the name {host} ({exc.strerror or exc})"
    except OSError as exc:
        return f"cannot connect to {target} ({exc.strerror or exc})"


def uses_cache(config: Path, lychee_options: list[str]) -> bool:
    """Whether lychee keeps its cache of successes: the configuration's ``cache``, unless an option says."""
    for option in reversed(lychee_options):
        if option in ("--cache", "--cache=true", "--cache=false"):
            return option != "--cache=false"
    return bool(tomllib.loads(config.read_text(encoding="utf-8")).get("cache", False))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False,
                                     epilog="Other options are passed to lychee.")
    parser.add_argument("--site-dir", type=Path, default=Path("site"), help="built site (default: site)")
    parser.add_argument("--no-site", action="store_true", help="check references.bib only (no build needed)")
    parser.add_argument("--bib", type=Path, default=Path("references.bib"), help="default: references.bib")
    parser.add_argument("--config", type=Path, default=ROOT / ".lychee.toml", help=argparse.SUPPRESS)
    parser.add_argument("--probe", default=None, metavar="HOST:PORT", help=argparse.SUPPRESS)  # tests
    parser.add_argument("--recheck-after", type=float, default=30.0, metavar="SECONDS",
                        help="when a link fails, ask the failures again once after this many seconds (default 30)")
    parser.add_argument("--no-recheck", action="store_true", help="report the first answers (no second run)")
    args, lychee_options = parser.parse_known_args(argv)

    inputs = []
    try:
        write_bib_urls(bib_urls(args.bib.read_text(encoding="utf-8"), str(args.bib)), BIB_URLS)
        inputs.append(str(BIB_URLS))
    except OSError as exc:
        return _fail(f"{args.bib}: cannot read the bibliography ({exc.strerror or exc})", BAD_INPUT)
    except SiteError as exc:
        return _fail(str(exc), BAD_INPUT)
    if not args.no_site:
        if not args.site_dir.is_dir():
            return _fail(f"{args.site_dir}: no built site here; run `make build` first (or pass --no-site)", BAD_INPUT)
        inputs.append(f"{args.site_dir.as_posix().rstrip('/')}/**/*.html")

    target = args.probe or probe_target(dict(os.environ))
    problem = network_problem(target)
    if problem:
        return _fail(f"no network: {problem}. External links can only be checked online; nothing was "
                     "checked. (Internal links and anchors are checked offline by `make test`.)", NO_NETWORK)

    root_dir = (args.site_dir if not args.no_site else Path(".")).resolve()
    command = [str(LYCHEE), "--config", str(args.config), "--scheme", "https", "--scheme", "http",
               "--root-dir", str(root_dir), *lychee_options, "--", *inputs]
    print(f"lychee: {' and '.join(inputs)} ({args.config.name}, .lycheeignore)", file=sys.stderr, flush=True)
    recheck = not args.no_recheck and uses_cache(args.config, lychee_options)
    first = _lychee(command, capture=recheck)  # (a report that is checked again is not shown)
    if first.returncode != BROKEN or not recheck:
        sys.stdout.write(first.stdout or "")
        return first.returncode
    print(f"lychee: some links failed; asking them again in {args.recheck_after:g} s (a server error is often "
          "brief; the links that worked come from the cache)", file=sys.stderr, flush=True)
    time.sleep(args.recheck_after)
    return _lychee(command).returncode


def _lychee(command: list[str], capture: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(command, env={**os.environ, "RUST_BACKTRACE": "0"}, check=False, text=True,
                          stdout=subprocess.PIPE if capture else None)


def _fail(message: str, status: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
