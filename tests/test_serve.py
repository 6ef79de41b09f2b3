"""`make serve` rebuilds when any source of a page changes (#19), shows a broken edit's file:line in its
log and recovers when it is fixed, and logs no warning for working redirects (#17).

One `mkdocs serve --strict` (the command `make serve` runs) on 127.0.0.1 and a free port, in a copy
of the repository; each kind of source is edited in turn and the served HTML must change.
"""

from __future__ import annotations

import re
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

from conftest import ENV, MKDOCS
from test_reproducible import fresh_copy

TIMEOUT = 180


class Server:
    def __init__(self, root):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.root, self.log = root, []
        self.proc = subprocess.Popen([*MKDOCS, "serve", "--strict", "--dev-addr", f"127.0.0.1:{self.port}"],
                                     cwd=root, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=lambda: [self.log.append(line) for line in self.proc.stdout], daemon=True).start()
        self.wait_log("Serving on")

    def get(self, path: str) -> str:
        url = f"http://127.0.0.1:{self.port}/ketamine-explained/{path}"
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.read().decode("utf-8")

    def wait_log(self, text: str, start: int = 0) -> str:
        deadline = time.time() + TIMEOUT
        while time.time() < deadline:
            for line in self.log[start:]:
                if text in line:
                    return line
            if self.proc.poll() is not None:
                raise AssertionError("mkdocs serve exited:\n" + "".join(self.log))
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared in the serve log:\n" + "".join(self.log[-40:]))

    def edit_and_wait(self, rel: str, change, page: str, expected: str) -> None:
        """Edit one source file; the served page must show ``expected`` after the rebuild."""
        path = self.root / rel
        start = len(self.log)
        path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")
        self.wait_log("Reloading browsers", start)
        html = self.get(page)
        assert expected in html, f"editing {rel} did not change {page}:\n" + "".join(self.log[start:])

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = fresh_copy(tmp_path_factory.mktemp("serve") / "repo")
    s = Server(root)
    time.sleep(1)  # the watcher's first snapshot
    yield s
    s.stop()


def test_every_kind_of_source_is_watched(server):
    watched = server.wait_log("Watching paths for changes")
    for source in ("docs", "mkdocs.yml", "references.bib", "data", "overrides", "includes/abbreviations.md",
                   "published-urls.txt", "CONTRIBUTING.md"):
        assert f"'{source}'" in watched, f"{source} is not watched: {watched}"


def test_editing_references_bib_rebuilds(server):
    html = server.get("what-is-ketamine/")
    key = re.search(r'<li id="ref-([a-z0-9-]+)" value="1">', html).group(1)

    def retitle(text):  # a word at the end of the title (the first word is part of the key)
        return re.sub(r"(@\w+\{" + re.escape(key) + r",.*?\btitle\s*=\s*\{.*?)(\},?\n)", r"\1 Zebraquux\2", text,
                      count=1, flags=re.S)

    server.edit_and_wait("references.bib", retitle, "what-is-ketamine/", "Zebraquux")


def test_editing_a_data_file_rebuilds(server):
    def retitle(text):
        return re.sub(r"(?m)^(\s*-?\s*title:\s*)(\S)", r"\1Quuxzebra \2", text, count=1)

    server.edit_and_wait("data/timeline.yml", retitle, "history/", "Quuxzebra")


def test_editing_the_glossary_rebuilds(server):
    def redefine(text):
        return re.sub(r"(?m)^(\*\[NMDA\]:\s*)", r"\1Zebraglossary ", text, count=1)

    server.edit_and_wait("includes/abbreviations.md", redefine, "what-is-ketamine/", "Zebraglossary")


def test_editing_a_template_rebuilds(server):
    server.edit_and_wait("overrides/partials/medical-notice.html", lambda t: t + "\n<!-- zebra-template -->\n",
                         "safety/", "zebra-template")


def test_a_broken_edit_shows_file_and_line_then_recovers(server):
    path = server.root / "published-urls.txt"
    original = path.read_text(encoding="utf-8")
    start = len(server.log)
    path.write_text(original.replace("/safety/\n", "/safety/\nnot-a-path\n", 1), encoding="utf-8")
    line = original.split("\n").index("/safety/") + 2
    server.wait_log(f"published-urls.txt:{line}: 'not-a-path' is not a site path", start)
    start = len(server.log)
    path.write_text(original, encoding="utf-8")
    server.wait_log("Reloading browsers", start)
    assert "Safety" in server.get("safety/")


def test_a_broken_reference_shows_file_and_line_then_recovers(server):
    path = server.root / "references.bib"
    original = path.read_text(encoding="utf-8")
    start = len(server.log)
    path.write_text(original + "\n@article{broken2020entry,\n  title = {Unclosed,\n", encoding="utf-8")
    line = original.count("\n") + 3  # the title's line
    server.wait_log(f"references.bib:{line}: in entry 'broken2020entry': the value of field 'title' is never closed",
                    start)
    start = len(server.log)
    path.write_text(original, encoding="utf-8")
    server.wait_log("Reloading browsers", start)


def test_the_root_redirect_is_not_a_warning(server):
    start = len(server.log)
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{server.port}/", timeout=30).read()
    except urllib.error.HTTPError:
        pass
    time.sleep(0.5)
    assert any('"GET / HTTP/1.1" code 302' in line for line in server.log[start:]), server.log[start:]
    assert not [line for line in server.log if line.startswith("WARNING")], "".join(server.log)
