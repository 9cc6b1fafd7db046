"""The documentation site: built with warnings as errors, complete, and working in a real browser.

The site is built once per session (``python -m sphinx -W --keep-going -b html docs <tmp>``), or taken from
``CONSTITUTIVE_DOCS_SITE`` (a directory holding a site built the same way: ``.ci/run`` builds it in its own phase
and points the suite at it). Checks:

* every program in ``examples/`` has a gallery page with a figure and printed output (or is listed, with its
  reason, in ``EXAMPLES_NOT_IN_GALLERY`` of ``docs/conf.py``), and so has every lesson, with its notebook download;
* the API reference documents every name of every public module's ``__all__``;
* headless Chromium (Debian's ``chromium``, driven over the DevTools protocol on a pipe; pure standard library)
  loads the home page, a gallery page (its figures load), an API page (MathJax renders its formulas) and the
  search page (the index loads and a query returns results), each without console errors;
* every lesson, downloaded as a notebook, runs top to bottom in a fresh Jupyter kernel (nbclient).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
LESSONS = sorted(p.stem for p in (DOCS / "lessons").glob("lesson_*.py"))
EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("*.py"))
BUILD_TIMEOUT = 1200


def _conf_constant(name: str) -> Any:
    """A literal constant of docs/conf.py, read without executing it."""
    for node in ast.parse((DOCS / "conf.py").read_text()).body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        if any(getattr(t, "id", None) == name for t in targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"docs/conf.py defines no {name}")


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built site (its directory, holding index.html)."""
    prebuilt = os.environ.get("CONSTITUTIVE_DOCS_SITE")
    if prebuilt:
        path = Path(prebuilt).resolve()
        assert (path / "index.html").is_file(), f"CONSTITUTIVE_DOCS_SITE={prebuilt} holds no built site"
        return path
    missing = [m for m in ("sphinx", "sphinx_gallery", "furo", "myst_parser") if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"the docs extra is not installed (missing {', '.join(missing)}): pip install -e '.[docs]'")
    out = tmp_path_factory.mktemp("site") / "html"
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", "docs", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    problems = [ln for ln in proc.stderr.splitlines() if "WARNING" in ln or "ERROR" in ln or "Error" in ln]
    assert proc.returncode == 0, "the site does not build cleanly:\n" + "\n".join(problems or [proc.stderr[-8000:]])
    return out


# -- completeness ----------------------------------------------------------------------------------------------------
def test_every_example_has_a_gallery_wrapper() -> None:
    excluded = _conf_constant("EXAMPLES_NOT_IN_GALLERY")
    assert all(isinstance(r, str) and r.strip() for r in excluded.values()), "every exclusion needs its reason"
    assert set(excluded) <= set(EXAMPLES), f"stale exclusions: {sorted(set(excluded) - set(EXAMPLES))}"
    wrappers = {p.stem.removeprefix("example_") for p in (DOCS / "gallery").glob("example_*.py")}
    assert not wrappers - set(EXAMPLES), f"wrappers of missing examples: {sorted(wrappers - set(EXAMPLES))}"
    missing = set(EXAMPLES) - wrappers - set(excluded)
    assert not missing, f"examples with neither a gallery page nor a stated reason: {sorted(missing)}"
    for name in wrappers:
        text = (DOCS / "gallery" / f"example_{name}.py").read_text()
        assert f'load_example("{name}")' in text, f"example_{name}.py does not run examples/{name}.py"


def _gallery_pages() -> list[str]:
    wrappers = sorted(p.stem for p in (DOCS / "gallery").glob("example_*.py"))
    return [f"auto_lessons/{n}.html" for n in LESSONS] + [f"auto_examples/{n}.html" for n in wrappers]


def test_the_teaching_track_has_five_to_eight_lessons() -> None:
    assert 5 <= len(LESSONS) <= 8, LESSONS
    for name in LESSONS:
        text = (DOCS / "lessons" / f"{name}.py").read_text()
        assert "# Exercises" in text and "tests/test_lessons.py" in text, f"{name}: no exercises section"
        tag = "lesson" + name.split("_")[1].lstrip("0") + "_"
        solutions = (ROOT / "tests" / "test_lessons.py").read_text()
        assert solutions.count(f"def test_{tag}exercise") >= 2, f"{name}: fewer than two solved exercises"


@pytest.mark.parametrize("page", _gallery_pages())
def test_gallery_page_shows_figure_and_output(site: Path, page: str) -> None:
    html = (site / page).read_text()
    images = _image_sources(html)
    assert images, f"{page}: no figure"
    assert "sphx-glr-script-out" in html, f"{page}: no printed output"
    for img in images:
        assert (site / page).parent.joinpath(img).resolve().is_file(), f"{page}: image {img} missing"
    if page.startswith("auto_lessons/"):
        stem = Path(page).stem
        assert f"{stem}.ipynb" in html, f"{page}: no notebook download"
        assert list((site / "_downloads").rglob(f"{stem}.ipynb")), f"{stem}.ipynb not in the site"


def _image_sources(html: str) -> list[str]:
    from html.parser import HTMLParser

    found: list[str] = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = dict(attrs)
            if tag == "img" and "sphx-glr" in (a.get("class") or "") and a.get("src"):
                found.append(str(a["src"]))

    Parser().feed(html)
    return found


def test_api_reference_covers_every_name_in_all(site: Path) -> None:
    sys.path.insert(0, str(DOCS / "api"))
    try:
        import _pages
    finally:
        sys.path.remove(str(DOCS / "api"))
    modules, exports, canonical, _ = _pages.plan()
    gen = site / "api" / "generated"
    pages = {m: (gen / f"{m}.html").read_text() for m in exports}
    problems = []
    for m, names in exports.items():
        for name in names:
            full = canonical[(m, name)]
            if full in modules:  # a submodule: linked, and has its own page
                if f'href="{full}.html' not in pages[m] or full not in pages:
                    problems.append(f"{m}: submodule {name}")
                continue
            home = full.rpartition(".")[0]
            if f'id="{full}"' not in pages[home]:
                problems.append(f"{full} is not documented on {home}.html")
            if home != m and f"#{full}" not in pages[m]:
                problems.append(f"{m}.html does not link {name} to {full}")
    assert not problems, "\n".join(problems)
    public = {n for n in _pages.public_modules()}
    assert set(pages) == public, sorted(public ^ set(pages))


# -- the browser -----------------------------------------------------------------------------------------------------
_FD_SHIM = """
import fcntl, os, sys
r, w = (fcntl.fcntl(int(fd), fcntl.F_DUPFD, 10) for fd in sys.argv[1:3])
os.dup2(r, 3)
os.dup2(w, 4)
os.execv(sys.argv[3], sys.argv[3:])
"""


class Chromium:
    """Headless Chromium over the DevTools protocol on ``--remote-debugging-pipe`` (NUL-separated JSON on fds 3
    and 4 of the browser)."""

    def __init__(self, exe: str) -> None:
        self.profile = tempfile.mkdtemp(prefix="constitutive-chromium-")
        r_cmd, w_cmd = os.pipe()
        r_out, w_out = os.pipe()
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]
        args += ["--remote-debugging-pipe", f"--user-data-dir={self.profile}", "about:blank"]
        # A Python shim moves the pipe ends onto fds 3 and 4, where Chromium expects them, then execs it.
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _FD_SHIM, str(r_cmd), str(w_out), exe, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            pass_fds=(r_cmd, w_out),
        )
        os.close(r_cmd)
        os.close(w_out)
        self.w, self.r = w_cmd, r_out
        self.buffer = b""
        self.last_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        self.last_id += 1
        msg: dict[str, Any] = {"id": self.last_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + 60
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self.last_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer within 60 s")
            if select.select([self.r], [], [], left)[0]:
                chunk = os.read(self.r, 1 << 20)
                if not chunk:
                    err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                    raise RuntimeError(f"Chromium closed the DevTools pipe:\n{err[-3000:]}")
                self.buffer += chunk
        msg, _, self.buffer = self.buffer.partition(b"\0")
        return json.loads(msg)

    def wait_event(self, method: str, session: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method and e.get("sessionId") == session for e in self.events):
            self.events.append(self._read(deadline))

    def open(self, url: str) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable", session=session)
        self.send("Page.navigate", {"url": url}, session=session)
        self.wait_event("Page.loadEventFired", session)
        return Page(self, session, url)

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            self.proc.kill()
        self.proc.wait(timeout=30)
        os.close(self.w)
        os.close(self.r)
        shutil.rmtree(self.profile, ignore_errors=True)


class Page:
    def __init__(self, browser: Chromium, session: str, url: str) -> None:
        self.browser, self.session, self.url = browser, session, url

    def eval(self, expression: str) -> Any:
        result = self.browser.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}, self.session
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"{self.url}: {expression!r} raised {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30) -> Any:
        """Poll a JavaScript expression until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.eval(expression)
            if value:
                return value
            time.sleep(0.2)
        raise AssertionError(f"{self.url}: {expression!r} stayed false for {timeout} s")

    def console_errors(self) -> list[str]:
        errors = []
        for e in self.browser.events:
            if e.get("sessionId") != self.session:
                continue
            p = e.get("params", {})
            if e["method"] == "Log.entryAdded" and p["entry"]["level"] == "error":
                errors.append(f"{p['entry'].get('url', '')}: {p['entry']['text']}")
            elif e["method"] == "Runtime.exceptionThrown":
                errors.append(json.dumps(p["exceptionDetails"])[:500])
            elif e["method"] == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
                errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in p["args"]))
        return errors


@pytest.fixture(scope="module")
def browser() -> Chromium:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium; .ci/run installs it)")
    b = Chromium(exe)
    yield b
    b.close()


def test_home_page(site: Path, browser: Chromium) -> None:
    page = browser.open((site / "index.html").as_uri())
    assert "constitutive" in page.eval("document.title")
    links = page.eval("Array.from(document.querySelectorAll('a')).map(a => a.getAttribute('href'))")
    for target in ("auto_lessons/index.html", "auto_examples/index.html", "api/index.html", "notation.html"):
        assert target in links, f"the home page does not link {target}"
    page.wait_for("document.querySelectorAll('mjx-container').length > 0")  # the formula of the home page
    assert not page.console_errors(), "\n".join(e[:300] for e in page.console_errors()[:5])


def test_gallery_page_with_its_figure(site: Path, browser: Chromium) -> None:
    page = browser.open((site / "auto_lessons" / "lesson_03_consistent_tangent.html").as_uri())
    images = page.wait_for(
        "(() => { const im = Array.from(document.querySelectorAll('img.sphx-glr-single-img, img.sphx-glr-multi-img'));"
        " return im.length > 0 && im.every(i => i.complete) ? im.map(i => i.naturalWidth) : null; })()"
    )
    assert all(w > 100 for w in images), f"figures that did not load: {images}"
    output = page.eval("Array.from(document.querySelectorAll('.sphx-glr-script-out')).map(e => e.innerText).join()")
    assert "Newton iterations per step" in output
    page.wait_for("document.querySelectorAll('mjx-container').length > 0")
    notebook = page.eval("Array.from(document.querySelectorAll('a')).map(a => a.href).find(h => h.endsWith('.ipynb'))")
    assert notebook and Path(notebook.removeprefix("file://")).is_file(), notebook
    assert not page.console_errors(), "\n".join(e[:300] for e in page.console_errors()[:5])


def test_api_page_with_rendered_math(site: Path, browser: Chromium) -> None:
    page = browser.open((site / "api" / "generated" / "constitutive.tangent.html").as_uri())
    n = page.wait_for(
        "document.querySelectorAll('mjx-container').length > 0 && !document.querySelector('.MathJax_Preview, "
        "mjx-merror') && document.querySelectorAll('mjx-container').length"
    )
    assert n >= 5, f"only {n} formulas rendered"
    assert page.eval("!!document.getElementById('constitutive.tangent.jacobian')")
    assert not page.eval("document.body.innerText.includes('\\\\mathbb')"), "raw TeX left on the page"
    assert not page.console_errors(), "\n".join(e[:300] for e in page.console_errors()[:5])


def test_search_page(site: Path, browser: Chromium) -> None:
    page = browser.open((site / "search.html").as_uri() + "?q=consistent+tangent")
    # Sphinx's searchtools loads searchindex.js, then lists the hits one by one and reports "found N page(s)".
    status = page.wait_for(
        "(() => { const p = document.querySelector('p.search-summary, #search-progress');"
        " return p && /found/i.test(p.innerText) ? p.innerText : null; })()",
        timeout=60,
    )
    count = page.eval("document.querySelectorAll('ul.search li').length")
    assert count >= 3, f"the search returned {count} results ({status})"
    texts = page.eval("Array.from(document.querySelectorAll('ul.search li a')).map(a => a.innerText).join(' | ')")
    assert "consistent" in texts.lower() or "Lesson 3" in texts, texts
    assert not page.console_errors(), "\n".join(e[:300] for e in page.console_errors()[:5])


# -- notebooks -------------------------------------------------------------------------------------------------------
def _run_notebook(path: Path, workdir: Path) -> Any:
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": workdir}}).execute()
    return nb


@pytest.fixture(scope="module")
def executed_notebooks(site: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every lesson's notebook, as downloaded from the site, executed in a fresh kernel from an empty folder (a
    teacher's copy) with this checkout's package importable; two kernels at a time."""
    pytest.importorskip("nbclient", reason="the docs extra is not installed: pip install -e '.[docs]'")
    from concurrent.futures import ThreadPoolExecutor

    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        jobs = {}
        with ThreadPoolExecutor(max_workers=2) as pool:
            for lesson in LESSONS:
                if "umat" in lesson and shutil.which("gfortran") is None:
                    continue
                (path,) = list((site / "_downloads").rglob(f"{lesson}.ipynb"))
                jobs[lesson] = pool.submit(_run_notebook, path, tmp_path_factory.mktemp(lesson))
        results: dict[str, Any] = {}
        for lesson, job in jobs.items():
            try:
                results[lesson] = job.result()
            except Exception as exc:  # reported by the lesson's own test
                results[lesson] = exc
        return results
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_notebook_runs(executed_notebooks: dict[str, Any], lesson: str) -> None:
    if lesson not in executed_notebooks:
        pytest.skip("gfortran is not installed (apt-get install -y gfortran)")
    nb = executed_notebooks[lesson]
    if isinstance(nb, Exception):
        raise AssertionError(f"{lesson}.ipynb failed: {nb}") from nb
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any(o.output_type == "display_data" and "image/png" in o.get("data", {}) for o in outputs), "no figure"
    assert any(o.output_type == "stream" for o in outputs), "no printed output"
