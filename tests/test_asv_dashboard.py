"""The published asv dashboard (``asv_bench/html``) renders in headless Chromium.

``asv_bench/run_quick.sh`` runs the benchmarks and publishes the dashboard;
these tests then load it the way a reader would, over HTTP (the page fetches
its JSON with XHR, which browsers refuse from ``file://``), and check that
every published benchmark appears in the benchmark grid and in the benchmark
list.  They skip, saying why, when Chromium is not installed or nothing has
been published, so the ordinary ``pytest`` run does not depend on asv.

asv's page takes jQuery, Flot and its plugins, Bootstrap, a table sorter and
an MD5 function from public CDNs, which neither CI nor the developers'
machines reach, so the server serves Debian's packaged copies in their place; everything asv generated
(its scripts, the page and the JSON) is served unchanged, and Chromium is
kept off any other host so the test is the same with or without a network.
"""
import functools
import http.server
import json
import re
import shutil
import subprocess
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest

ASV_BENCH = Path(__file__).resolve().parents[1] / "asv_bench"
HTML_DIR = ASV_BENCH / "html"

# asv's CDN scripts and stylesheet by file name -> Debian's copy.  Versions
# differ (Flot 4 for 0.8.3, jQuery 3.6 for 3.3) but the API asv uses is the
# same, which is what the rendering checks below establish.
_DEBIAN_JS = Path("/usr/share/javascript")
VENDORED = {
    "jquery-3.3.1.min.js": _DEBIAN_JS / "jquery/jquery.min.js",
    "jquery.flot.min.js": _DEBIAN_JS / "jquery-flot/jquery.flot.min.js",
    "jquery.flot.time.min.js": _DEBIAN_JS / "jquery-flot/jquery.flot.time.min.js",
    "jquery.flot.selection.min.js": _DEBIAN_JS / "jquery-flot/jquery.flot.selection.min.js",
    "jquery.flot.categories.min.js": _DEBIAN_JS / "jquery-flot/jquery.flot.categories.min.js",
    "stupidtable.min.js": _DEBIAN_JS / "jquery-stupidtable/stupidtable.min.js",
    "md5.min.js": _DEBIAN_JS / "blueimp-md5/md5.min.js",
    "bootstrap.min.js": _DEBIAN_JS / "bootstrap/js/bootstrap.min.js",
    "bootstrap.min.css": _DEBIAN_JS / "bootstrap/css/bootstrap.min.css",
}
DEBIAN_PACKAGES = ("libjs-jquery libjs-jquery-flot libjs-jquery-stupidtable "
                   "node-blueimp-md5 libjs-bootstrap")
# Orders the bars of bar charts; no Debian package, and the pages checked
# here draw none, so its tag is dropped.
NOT_NEEDED = {"jquery.flot.orderBars.js"}

_EXTERNAL = re.compile(
    r'<script\b[^>]*\bsrc="(https?://[^"]*)"[^>]*>\s*</script>'
    r'|<link\b[^>]*\bhref="(https?://[^"]*)"[^>]*>')
_SUBRESOURCE_ATTRIBUTES = re.compile(r'\s(?:integrity|crossorigin|referrerpolicy)="[^"]*"')

CHROMIUM_TIMEOUT = 120  # seconds; a render takes a few on a loaded 2-core machine


def localize(page):
    """Point asv's CDN references at ``/_vendor/<file name>``.

    Subresource-integrity hashes are removed (they pin the CDN builds);
    an external reference that is neither vendored nor known to be
    unneeded is an error, so an asv upgrade that adds one is noticed here.
    """
    def replace(match):
        url = match.group(1) or match.group(2)
        name = url.rsplit("/", 1)[-1]
        if name in NOT_NEEDED:
            return ""
        if name not in VENDORED:
            raise AssertionError(f"asv's index.html loads {url}, which has no local "
                                 "copy: add it to VENDORED or NOT_NEEDED")
        tag = _SUBRESOURCE_ATTRIBUTES.sub("", match.group(0))
        return tag.replace(url, f"/_vendor/{name}")

    return _EXTERNAL.sub(replace, page)


class DashboardHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the published dashboard, with ``index.html`` replaced by
    ``index_page`` (the localized page) and ``/_vendor/`` mapped to Debian's
    copies of asv's dependencies."""

    def __init__(self, *args, index_page, **kwargs):
        self.index_page = index_page
        super().__init__(*args, **kwargs)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path in ("/", "/index.html"):
            self._send(self.index_page, "text/html; charset=utf-8")
        elif path.startswith("/_vendor/"):
            source = VENDORED.get(path[len("/_vendor/"):])
            if source is None:
                self.send_error(404)
            else:
                kind = "text/css" if source.suffix == ".css" else "text/javascript"
                self._send(source.read_bytes(), kind)
        else:
            super().do_GET()

    def _send(self, body, content_type):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass  # keep pytest's output clean


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
def dashboard_url(chromium, published):
    """URL of the dashboard served on a free loopback port for this module."""
    missing = [str(p) for p in VENDORED.values() if not p.is_file()]
    if missing:
        pytest.skip(f"Debian's copies of asv's scripts are missing ({missing[0]}, ...): "
                    f"apt-get install {DEBIAN_PACKAGES}")
    page = localize((HTML_DIR / "index.html").read_text(encoding="utf-8"))
    handler = functools.partial(DashboardHandler, directory=str(HTML_DIR),
                                index_page=page.encode("utf-8"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


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
