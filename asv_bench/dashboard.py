"""Publish the asv dashboard and serve it offline, with local copies of its JavaScript.

Run from anywhere in the checkout::

    python asv_bench/dashboard.py                # asv publish, then serve http://127.0.0.1:8080
    python asv_bench/dashboard.py --no-publish   # serve what asv_bench/html already holds
    python asv_bench/dashboard.py --no-serve     # publish and make it offline, then exit
    python asv_bench/dashboard.py --port 0       # any free port (the URL is printed)

asv's page (``asv_bench/html/index.html``) loads jQuery, Flot and its
plugins, Bootstrap, a table sorter and an MD5 function from public CDNs, so
offline it shows asv's "failed to load" page.  This command copies Debian's
packaged versions of those files into ``asv_bench/html/_vendor/`` and points
the page at them (subresource-integrity hashes, which pin the CDN builds,
are dropped); everything else asv generated is left unchanged.  Afterwards
the folder needs no network and any static server shows it (``asv preview``
too).  The Debian packages::

    apt-get install libjs-jquery libjs-jquery-flot libjs-jquery-stupidtable \\
        node-blueimp-md5 libjs-bootstrap

Results to publish come from ``asv_bench/run_quick.sh`` (every benchmark
once, recorded under the current commit; it also makes the page offline) or
``asv run``.  Exit codes: 0 success (or Ctrl-C while serving), 2 a missing
dashboard or Debian file, or a failed ``asv publish`` (one line on stderr).
"""
import argparse
import functools
import http.server
import pathlib
import re
import shutil
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_HTML = HERE / "html"

# asv's CDN scripts and stylesheet, by file name -> Debian's copy.  Versions
# differ (Flot 4 for 0.8.3, jQuery 3.6 for 3.3) but the API asv uses is the
# same, which tests/test_asv_dashboard.py establishes by rendering the page.
DEBIAN_JS = pathlib.Path("/usr/share/javascript")
VENDORED = {
    "jquery-3.3.1.min.js": DEBIAN_JS / "jquery/jquery.min.js",
    "jquery.flot.min.js": DEBIAN_JS / "jquery-flot/jquery.flot.min.js",
    "jquery.flot.time.min.js": DEBIAN_JS / "jquery-flot/jquery.flot.time.min.js",
    "jquery.flot.selection.min.js": DEBIAN_JS / "jquery-flot/jquery.flot.selection.min.js",
    "jquery.flot.categories.min.js": DEBIAN_JS / "jquery-flot/jquery.flot.categories.min.js",
    "stupidtable.min.js": DEBIAN_JS / "jquery-stupidtable/stupidtable.min.js",
    "md5.min.js": DEBIAN_JS / "blueimp-md5/md5.min.js",
    "bootstrap.min.js": DEBIAN_JS / "bootstrap/js/bootstrap.min.js",
    "bootstrap.min.css": DEBIAN_JS / "bootstrap/css/bootstrap.min.css",
}
DEBIAN_PACKAGES = ("libjs-jquery libjs-jquery-flot libjs-jquery-stupidtable "
                   "node-blueimp-md5 libjs-bootstrap")
# Orders the bars of bar charts; no Debian package, and the dashboard's
# pages draw none, so its tag is dropped.
NOT_NEEDED = {"jquery.flot.orderBars.js"}
VENDOR_DIR = "_vendor"

_EXTERNAL = re.compile(
    r'<script\b[^>]*\bsrc="(https?://[^"]*)"[^>]*>\s*</script>'
    r'|<link\b[^>]*\bhref="(https?://[^"]*)"[^>]*>')
_SUBRESOURCE_ATTRIBUTES = re.compile(r'\s(?:integrity|crossorigin|referrerpolicy)="[^"]*"')


class DashboardError(Exception):
    """A failure reported as one line (exit code 2)."""


def localize(page: str) -> str:
    """``page`` with every CDN ``<script>``/``<link>`` pointing at ``_vendor/<file name>``.

    Parameters
    ----------
    page : str
        The text of asv's ``index.html``.

    Returns
    -------
    str
        The page with local references (unchanged if it has none left).

    Raises
    ------
    DashboardError
        If the page loads a remote file that has no local copy here (an asv
        upgrade added one: extend ``VENDORED`` or ``NOT_NEEDED``).
    """
    def replace(match):
        url = match.group(1) or match.group(2)
        name = url.rsplit("/", 1)[-1]
        if name in NOT_NEEDED:
            return ""
        if name not in VENDORED:
            raise DashboardError(f"asv's index.html loads {url}, which has no local copy: "
                                 "add it to VENDORED or NOT_NEEDED in asv_bench/dashboard.py")
        tag = _SUBRESOURCE_ATTRIBUTES.sub("", match.group(0))
        return tag.replace(url, f"{VENDOR_DIR}/{name}")

    return _EXTERNAL.sub(replace, page)


def make_offline(html_dir) -> pathlib.Path:
    """Copy Debian's files into ``html_dir/_vendor`` and rewrite ``index.html``.

    Every file is written atomically (:func:`sparselearn.io.atomic_write`).

    Parameters
    ----------
    html_dir : str or os.PathLike
        A dashboard published by ``asv publish``.

    Returns
    -------
    pathlib.Path
        The rewritten ``index.html``.

    Raises
    ------
    DashboardError
        If nothing is published there or a Debian file is missing.
    """
    from sparselearn.io import atomic_write, save_text

    html_dir = pathlib.Path(html_dir)
    index = html_dir / "index.html"
    if not index.is_file() or not (html_dir / "index.json").is_file():
        raise DashboardError(f"no asv dashboard published in {html_dir}: run "
                             "asv_bench/run_quick.sh (or asv run, then this command "
                             "without --no-publish)")
    missing = [str(path) for path in VENDORED.values() if not path.is_file()]
    if missing:
        raise DashboardError(f"Debian's copies of asv's JavaScript are missing ({missing[0]}"
                             f"{', ...' if len(missing) > 1 else ''}): apt-get install "
                             f"{DEBIAN_PACKAGES}")
    page = localize(index.read_text(encoding="utf-8"))
    (html_dir / VENDOR_DIR).mkdir(exist_ok=True)
    for name, source in VENDORED.items():
        with atomic_write(html_dir / VENDOR_DIR / name, "wb") as handle, \
                open(source, "rb") as original:
            shutil.copyfileobj(original, handle)
    save_text(index, page)
    return index


def publish(config) -> None:
    """``asv publish --config CONFIG``; a DashboardError if it fails."""
    done = subprocess.run([sys.executable, "-m", "asv", "publish", "--config", str(config)],
                          cwd=HERE, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise DashboardError(f"asv publish --config {config} exited with {done.returncode} "
                             "(see its output above); is asv installed "
                             "(pip install -e \".[bench]\") and are there results?")


def serve(html_dir, host: str, port: int) -> None:
    """Serve ``html_dir`` over HTTP until Ctrl-C (the page fetches its JSON
    with XHR, which browsers refuse from ``file://``)."""
    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    with http.server.ThreadingHTTPServer((host, port), handler) as server:
        print(f"serving {html_dir} at http://{host}:{server.server_address[1]}/ "
              "(Ctrl-C stops)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="asv_bench/dashboard.py",
        description="Publish the asv dashboard (asv_bench/html) and serve it with local "
                    "copies of its JavaScript (Debian's packages), so it works offline.")
    parser.add_argument("--no-publish", action="store_true",
                        help="do not run 'asv publish' first; use what is published")
    parser.add_argument("--no-serve", action="store_true",
                        help="only publish and make the page offline, then exit")
    parser.add_argument("--config", default=str(HERE / "asv.conf.json"),
                        help="asv configuration for 'asv publish' (asv_bench/asv.conf.json)")
    parser.add_argument("--html", default=str(DEFAULT_HTML),
                        help="the published dashboard folder (asv_bench/html)")
    parser.add_argument("--host", default="127.0.0.1", help="address to serve on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080,
                        help="port to serve on; 0 picks a free one (8080)")
    args = parser.parse_args(argv)
    try:
        if not args.no_publish:
            publish(args.config)
        index = make_offline(args.html)
        print(f"{index}: JavaScript served from {index.parent / VENDOR_DIR} (no network needed)",
              flush=True)
        if not args.no_serve:
            serve(args.html, args.host, args.port)
    except (DashboardError, OSError) as exc:
        print(f"{parser.prog}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.path.append(str(ROOT))  # sparselearn.io from this checkout if it is not installed
    sys.exit(main())
