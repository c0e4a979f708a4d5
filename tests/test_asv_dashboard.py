"""The published asv dashboard (``asv_bench/html``) renders in headless Chromium,
served by the user-facing command ``python asv_bench/dashboard.py``.

``asv_bench/run_quick.sh`` runs the benchmarks and publishes the dashboard;
these tests then serve a copy of it with ``asv_bench/dashboard.py
--no-publish --port 0`` (which points asv's CDN references at Debian's
packaged jQuery, Flot, Bootstrap, table sorter and MD5, copied into
``_vendor/``) and load it the way a reader would, over HTTP (the page
fetches its JSON with XHR, which browsers refuse from ``file://``), and
check that every published benchmark appears in the benchmark grid and in
the benchmark list.  Chromium is kept off every host but the loopback
server, so the test is the same with or without a network.  They skip,
saying why, when Chromium is not installed or nothing has been published,
so the ordinary ``pytest`` run does not depend on asv; the rewriting itself
is tested on a synthetic page without either.
"""
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ASV_BENCH = Path(__file__).resolve().parents[1] / "asv_bench"
HTML_DIR = ASV_BENCH / "html"

_spec = importlib.util.spec_from_file_location("asv_dashboard", ASV_BENCH / "dashboard.py")
dashboard = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dashboard)

CHROMIUM_TIMEOUT = 120  # seconds; a render takes a few on a loaded 2-core machine
_REMOTE = re.compile(r'<(?:script|link)\b[^>]*\b(?:src|href)="https?://')


def test_localize_points_cdn_references_at_local_copies():
    page = ('<link href="https://cdn.example/bootstrap.min.css" rel="stylesheet" '
            'integrity="sha384-x" crossorigin="anonymous">\n'
            '<script src="https://cdn.example/jquery-3.3.1.min.js" integrity="sha-y">'
            '</script>\n<script src="https://cdn.example/jquery.flot.orderBars.js"></script>'
            '\n<script src="asv.js"></script>')
    local = dashboard.localize(page)
    assert not _REMOTE.search(local)
    assert '<script src="_vendor/jquery-3.3.1.min.js"></script>' in local
    assert 'href="_vendor/bootstrap.min.css"' in local and "integrity" not in local
    assert "orderBars" not in local and '<script src="asv.js"></script>' in local
    assert dashboard.localize(local) == local  # idempotent
    with pytest.raises(dashboard.DashboardError, match="no local copy"):
        dashboard.localize('<script src="https://cdn.example/new-library.js"></script>')


def test_command_without_a_dashboard_is_one_line_and_exit_2(tmp_path):
    done = subprocess.run([sys.executable, str(ASV_BENCH / "dashboard.py"), "--no-publish",
                           "--no-serve", "--html", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "no asv dashboard published" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def chromium():
    """Path of the Chromium executable."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("chromium is not installed (Debian: apt-get install chromium)")


@pytest.fixture(scope="module")
def index():
    """The published dashboard's ``index.json``: asv 0.6 publishes the suite's
    ``benchmarks.json`` in it, and one entry of ``graph_param_list`` per
    machine, environment and branch with results."""
    path = HTML_DIR / "index.json"
    if not (HTML_DIR / "index.html").is_file() or not path.is_file():
        pytest.skip(f"no asv dashboard published in {HTML_DIR}; "
                    "run asv_bench/run_quick.sh first")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def published(index):
    """Names of the published benchmarks."""
    return set(index["benchmarks"])


@pytest.fixture(scope="module")
def dashboard_url(chromium, published, tmp_path_factory):
    """URL of a copy of the dashboard served by ``asv_bench/dashboard.py
    --no-publish --port 0`` for this module."""
    missing = [str(p) for p in dashboard.VENDORED.values() if not p.is_file()]
    if missing:
        pytest.skip(f"Debian's copies of asv's scripts are missing ({missing[0]}, ...): "
                    f"apt-get install {dashboard.DEBIAN_PACKAGES}")
    copy = tmp_path_factory.mktemp("dashboard") / "html"
    shutil.copytree(HTML_DIR, copy)
    server = subprocess.Popen([sys.executable, str(ASV_BENCH / "dashboard.py"), "--no-publish",
                               "--html", str(copy), "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        for line in server.stdout:
            if line.startswith("serving "):
                break
        match = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
        assert match, f"no URL printed: {line!r} {server.stderr.read() if server.poll() else ''}"
        page = (copy / "index.html").read_text(encoding="utf-8")
        assert not _REMOTE.search(page), "the served page still loads remote files"
        yield match.group(1) + "index.html"
    finally:
        server.terminate()
        server.wait(timeout=30)


def render(chromium, url, profile_dir):
    """The DOM of ``url`` after its scripts ran, from ``chromium --dump-dom``.

    ``--virtual-time-budget`` lets the page's XHRs and rendering finish
    before the dump; every host other than the local server is unresolvable.
    """
    command = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-dev-shm-usage", "--no-first-run", f"--user-data-dir={profile_dir}",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--virtual-time-budget=20000", "--dump-dom", url,
    ]
    done = subprocess.run(command, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=CHROMIUM_TIMEOUT)
    assert done.returncode == 0, f"chromium exited with {done.returncode}:\n{done.stderr[-2000:]}"
    dom = done.stdout
    assert "airspeed velocity error" not in dom, (
        "the dashboard's scripts failed to load (asv's error page was shown)")
    return dom


class BenchmarkLinks(HTMLParser):
    """Benchmark names linked from the grid's tiles (``<a class="...
    benchmark-container" href="#NAME">``) and from the first cell of the
    list's rows (``<tr><td><a href="#NAME?params">``; later cells link
    commits and changes)."""

    def __init__(self):
        super().__init__()
        self.grid, self.table = set(), set()
        self._cell = None  # index of the open <td> in its row, or None
        self._row_cells = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr":
            self._row_cells = 0
        elif tag == "td":
            self._cell, self._row_cells = self._row_cells, self._row_cells + 1
        elif tag == "a" and (attrs.get("href") or "").startswith("#"):
            name = attrs["href"][1:].split("?", 1)[0]
            if "benchmark-container" in (attrs.get("class") or "").split():
                self.grid.add(name)
            elif self._cell == 0:
                self.table.add(name)

    def handle_endtag(self, tag):
        if tag == "td":
            self._cell = None


def _links(dom):
    parser = BenchmarkLinks()
    parser.feed(dom)
    parser.close()
    return parser


def test_published_benchmarks_are_this_suite(published):
    """The dashboard describes asv_bench/benchmarks: each published name is
    ``module.[Class.]method`` with the module in that directory."""
    assert published, "the published dashboard has no benchmarks"
    modules = {p.stem for p in (ASV_BENCH / "benchmarks").glob("*.py")}
    stale = sorted(n for n in published if n.split(".", 1)[0] not in modules)
    assert not stale, (f"published benchmarks not in asv_bench/benchmarks: {stale}; "
                       "republish with asv_bench/run_quick.sh")


def test_benchmark_grid_lists_every_benchmark(chromium, published, dashboard_url, tmp_path):
    """The front page's grid links every published benchmark, and nothing else."""
    rendered = _links(render(chromium, dashboard_url, tmp_path / "profile")).grid
    assert rendered, "no benchmark rendered in the grid"
    assert rendered <= published, f"unknown benchmarks rendered: {sorted(rendered - published)}"
    assert published <= rendered, f"benchmarks not rendered: {sorted(published - rendered)}"


def test_benchmark_list_renders(chromium, index, published, dashboard_url, tmp_path):
    """The benchmark list page links published benchmarks; all of them when the
    results come from one machine and environment (as after run_quick.sh),
    since the list shows one such combination at a time."""
    url = dashboard_url + "#/summarylist"
    rendered = _links(render(chromium, url, tmp_path / "profile")).table
    assert rendered, "no benchmark rendered in the list"
    assert rendered <= published, f"unknown benchmarks rendered: {sorted(rendered - published)}"
    if len(index["graph_param_list"]) == 1:
        assert published <= rendered, f"benchmarks not rendered: {sorted(published - rendered)}"
