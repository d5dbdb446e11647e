"""Does the built static site work in Chromium with networking off: every page, its math, figures and sliders?

Runs under ``make site-test`` (which builds the site first and sets COURSE_SITE_DIR); skipped otherwise.
Pages are opened from file:// in an offline browser context, and every request that is not for a file of
the site is aborted and counted as a failure. Each page is also checked with axe-core (from npm, locked in
package-lock.json, injected into the page from node_modules/): no serious or critical violation of the
WCAG 2.1 A and AA rules, and every image has an alt text that says what it shows. Screenshots of each
week's first explorer at two slider positions, and of a few pages, go to artefacts/site/.
"""

from __future__ import annotations

import html
import json
import os
import re
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.browser_utils import CHROMIUM, CHROMIUM_ARGS, INSTALL_HINT
from tests.notebook_utils import EXERCISES, LECTURES, ROOT, SOLUTIONS, read

SITE_DIR = os.environ.get("COURSE_SITE_DIR")
ARTEFACTS = ROOT / "artefacts" / "site"
MB = 1_000_000
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")
# alt texts that say nothing about the image: a bare word, a file name, a hash or a notebook cell id
GENERIC_ALTS = {"figure", "image", "img", "picture", "photo", "graph", "plot", "chart", "output", "png", "untitled"}
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not SITE_DIR, reason="the static site is checked by `make site-test`")]

# Collected in the page once it has loaded (and MathJax has typeset it).
INSPECT = r"""async () => {
  if (window.MathJax && MathJax.startup) await MathJax.startup.promise;
  const main = document.querySelector('main') || document.body;
  const prose = main.cloneNode(true);
  prose.querySelectorAll('pre, code, script, style, mjx-container, .highlight, .cell_output').forEach(e => e.remove());
  const imgs = [...main.querySelectorAll('img')];
  return {
    title: document.title,
    maths: main.querySelectorAll('.math').length,
    untypeset: [...main.querySelectorAll('.math')].filter(e => !e.querySelector('mjx-container')).length,
    typeset: main.querySelectorAll('mjx-container').length,
    prose: prose.innerText,
    text: document.body.innerText,
    images: imgs.length,
    outputImages: main.querySelectorAll('.cell_output img').length,
    alts: [...document.querySelectorAll('img')].map(i => ({src: i.getAttribute('src'), alt: i.getAttribute('alt')})),
    broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src')),
    explorers: [...main.querySelectorAll('.course-site-explorer')].map(e => ({
      names: [...e.querySelectorAll('input[type=range]')].map(i => i.dataset.slider),
      labels: [...e.querySelectorAll('label')].map(l => l.textContent),
    })),
  };
}"""


def pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if "_static" not in p.parts)


def slider_names(describe: str) -> list[str]:
    return re.findall(r"(\w+) in \[", describe.split("(sliders:", 1)[1])


def saved_explorers(nb) -> list[str]:
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("data", {}).get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else text
            if text.startswith("Explorer:"):
                found.append(text)
    return found


def uninformative_alt(alt: str | None) -> str | None:
    """Why an image's alt text does not say what the image shows (None when it may): missing, empty, a generic
    word, a file name or path, a hash, or a notebook cell id."""
    if alt is None:
        return "no alt attribute"
    text = alt.strip()
    if not text:
        return "an empty alt"
    numbered = re.fullmatch(r"(?i)(figure|image|plot|output|cell)[\s_#-]*\d+", text)
    if text.lower().rstrip(".:") in GENERIC_ALTS or numbered:
        return f"a generic alt {text!r}"
    if re.search(r"(?i)\.(png|jpe?g|gif|svg|webp)$", text) or "/" in text and " " not in text:
        return f"a file name as alt {text!r}"
    if re.fullmatch(r"(?i)[0-9a-f]{16,}|(cell[-_ ]?)?[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}|c\d+", text):
        return f"an id as alt {text!r}"
    return None


def saved_images(nb) -> int:
    return sum("image/png" in out.get("data", {}) for c in nb.cells for out in c.get("outputs", []))


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def site() -> Path:
    folder = (ROOT / SITE_DIR).resolve()
    assert (folder / "index.html").exists(), f"{folder} holds no built site: run `make site` first"
    return folder


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}; {INSTALL_HINT}")
        pytest.skip(f"Chromium not found at {CHROMIUM}; {INSTALL_HINT}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        # no proxy is reachable and the context is offline: nothing can leave this machine
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                               args=[*CHROMIUM_ARGS, "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"])
        yield b
        b.close()


class Visitor:
    """One offline page at a time; records every request that was not a file of the site, and every error."""

    def __init__(self, browser, site: Path):
        self.site = site
        self.context = browser.new_context(offline=True, viewport={"width": 1280, "height": 900},
                                           device_scale_factor=1, service_workers="block")
        self.context.route(re.compile(r"^(?!file:|data:|blob:|about:)"), self._abort)
        self.problems: list[str] = []
        self.page = self.context.new_page()
        self.page.on("request", self._request)
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed request {r.url}: {r.failure}"))
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console error: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))

    def _abort(self, route):
        self.problems.append(f"external request {route.request.url}")
        route.abort()

    def _request(self, request):
        url = request.url
        if url.startswith("file:") and not Path(unquote(urlsplit(url).path)).resolve().is_relative_to(self.site):
            self.problems.append(f"request outside the site {url}")
        elif not url.startswith(("file:", "data:", "blob:", "about:")):
            self.problems.append(f"external request {url}")

    def open(self, path: Path) -> dict:
        self.problems = []
        self.page.goto(path.as_uri(), wait_until="load")
        info = self.page.evaluate(INSPECT)
        self.page.wait_for_load_state("networkidle")  # the explorers' frames, fetched after load
        info["problems"] = list(self.problems)
        return info


@pytest.fixture(scope="module")
def axe_script() -> Path:
    if not AXE.exists():
        hint = "run `npm ci` (make site does) to install node_modules/axe-core from package-lock.json"
        if os.environ.get("CI"):
            pytest.fail(f"axe-core not found at {AXE.relative_to(ROOT)}: {hint}")
        pytest.skip(f"axe-core not found at {AXE.relative_to(ROOT)}: {hint}")
    return AXE


# Every rule with one of the WCAG 2.1 A/AA tags, the ones axe marks experimental too.
AXE_RUN = r"""async (tags) => {
  const rules = axe.getRules(tags).map(r => r.ruleId);
  // preload: false -- axe would fetch the style sheets again by XHR, which file:// pages refuse
  const result = await axe.run(document, {runOnly: {type: 'rule', values: rules}, resultTypes: ['violations'],
                                          preload: false});
  return {rules: rules.length, violations: result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), impact: n.impact, html: n.html.slice(0, 160)})),
  }))};
}"""


def axe_check(visitor, path: Path, axe: Path) -> dict:
    """Open ``path`` offline, inject axe-core and run the WCAG 2.1 A/AA rules: {rules, violations, problems}."""
    visitor.open(path)
    visitor.page.add_script_tag(path=str(axe))
    found = visitor.page.evaluate(AXE_RUN, AXE_TAGS)
    found["problems"] = list(visitor.problems)
    return found


def blocking(found: dict, page: str) -> list[str]:
    """One line per element with a serious or critical violation: the rule, the page and the element."""
    return [f"{v['id']} ({n['impact'] or v['impact']}) on {page} at {n['target']}: {v['help']} -- {n['html']}"
            for v in found["violations"] for n in v["nodes"] if (n["impact"] or v["impact"]) in BLOCKING]


@pytest.fixture(scope="module")
def visitor(browser, site):
    v = Visitor(browser, site)
    yield v
    v.context.close()


@pytest.fixture(scope="module")
def visits(visitor, site) -> dict[str, dict]:
    """Every page of the site, opened once: {path relative to the site: what INSPECT found}."""
    return {p.relative_to(site).as_posix(): visitor.open(p) for p in pages(site)}


def lecture_page(path: Path) -> str:
    return f"notebooks/{path.stem}.html"


def exercise_page(path: Path) -> str:
    return path.relative_to(ROOT).with_suffix(".html").as_posix()


# ---------------------------------------------------------------- the pages
def test_every_lecture_and_exercise_set_has_a_page_and_the_home_page_links_them_in_order(visits, site):
    expected = [lecture_page(p) for p in LECTURES] + [exercise_page(p) for p in EXERCISES]
    assert [p for p in expected if p not in visits] == []
    assert not any(p.startswith("solutions/") for p in visits)
    home = (site / "index.html").read_text()
    positions = [home.find(f'href="{p}"') for p in expected]
    assert -1 not in positions, "the sidebar of the home page misses a lecture or exercise set"
    lectures = positions[: len(LECTURES)]
    assert lectures == sorted(lectures), "the lectures are not listed in week order"
    assert "run-it-yourself.html" in home


def test_every_page_loads_offline_with_no_failed_request_and_no_console_error(visits):
    problems = {page: info["problems"] for page, info in visits.items() if info["problems"]}
    assert problems == {}


def test_the_offline_browser_reports_a_page_that_asks_for_anything_from_elsewhere(visitor, site, tmp_path):
    """The check above can fail: a request to another host, or for a missing file, is caught."""
    page = site / "_static" / "check-offline.html"
    page.write_text('<html><head><script src="https://cdn.example.org/x.js"></script></head>'
                    '<body><img src="missing.png"><img src="http://127.0.0.1:9/y.png"></body></html>')
    try:
        problems = visitor.open(page)["problems"]
    finally:
        page.unlink()
    assert any("cdn.example.org" in p for p in problems) and any("missing.png" in p for p in problems)
    assert any("127.0.0.1:9" in p for p in problems)


def test_every_page_passes_axe_wcag_2_1_aa_with_no_serious_or_critical_violation(visitor, site, axe_script):
    lines, counts = [], {}
    for path in pages(site):
        page = path.relative_to(site).as_posix()
        found = axe_check(visitor, path, axe_script)
        assert found["rules"] > 40, f"axe ran only {found['rules']} rules on {page}"
        assert found["problems"] == [], page
        for v in found["violations"]:
            counts[f"{v['id']} ({v['impact']})"] = counts.get(f"{v['id']} ({v['impact']})", 0) + len(v["nodes"])
        lines += blocking(found, page)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    (ARTEFACTS / "axe_violations.json").write_text(json.dumps(counts, indent=1, sort_keys=True))
    assert lines == [], f"{len(lines)} serious or critical axe violations:\n" + "\n".join(lines)


def test_the_axe_check_reports_a_page_with_serious_and_critical_violations(visitor, site, axe_script):
    """The check above can fail: an image without alt, an unlabelled field and a page without a language."""
    page = site / "_static" / "check-axe.html"
    page.write_text('<!DOCTYPE html><html><head><title>x</title></head><body><main>'
                    '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="9" height="9">'
                    '<input type="text"><button aria-label="Close">Open the menu</button></main></body></html>')
    try:
        lines = blocking(axe_check(visitor, page, axe_script), "check-axe.html")
    finally:
        page.unlink()
    rules = {line.split(" ", 1)[0] for line in lines}
    assert {"image-alt", "label", "html-has-lang", "label-content-name-mismatch"} <= rules, lines
    assert any("check-axe.html at img" in line for line in lines), lines


def test_every_image_on_every_page_has_an_alt_that_says_what_it_shows(visits):
    bad = {f"{page}: {img['src']}": why for page, info in visits.items() for img in info["alts"]
           if (why := uninformative_alt(img["alt"]))}
    assert bad == {}
    assert sum(len(info["alts"]) for info in visits.values()) > 0, "no image on any page"


@pytest.mark.parametrize("alt", [None, "", "  ", "Figure", "figure 3", "Image", "plot.", "output_12",
                                 "../_images/3f2a9c0d1e4b5a6978c0d1e2f3a4b5c6d7e8f9a0.png", "a/b/c",
                                 "3f2a9c0d1e4b5a6978c0d1e2f3a4b5c6", "c17", "cell-12"])
def test_an_alt_that_does_not_say_what_the_image_shows_is_caught(alt):
    assert uninformative_alt(alt) is not None


def test_an_alt_made_from_the_figures_titles_and_labels_passes():
    alt = "Line plot “One logit → probability → decision”: P(yes) = sigmoid(z) against logit z."
    assert uninformative_alt(alt) is None
    assert uninformative_alt("Explorer: sigmoid slope") is None


def test_every_link_between_pages_leads_to_a_file_of_the_site(site):
    missing = set()
    for page in pages(site):
        for href in re.findall(r'href="([^"#?]+)[^"]*"', page.read_text()):
            if not re.match(r"^[a-z][a-z0-9+.-]*:", href) and not (page.parent / href).exists():
                missing.add(f"{page.relative_to(site)} -> {href}")
    assert sorted(missing) == []


def test_math_is_typeset_and_no_raw_delimiters_are_left(visits):
    for lecture in LECTURES:
        info = visits[lecture_page(lecture)]
        assert info["typeset"] > 0, f"{lecture.name}: no typeset math"
    for page, info in visits.items():
        assert info["untypeset"] == 0, f"{page}: {info['untypeset']} math elements were not typeset"
        raw = re.findall(r"\$\$|\\\(|\\\[|(?<![\w$])\$[^$\s][^$\n]*\$", info["prose"])
        assert raw == [], f"{page}: raw TeX left in the text: {raw[:3]}"


def test_every_figure_of_every_lecture_is_on_its_page_and_loads(visits):
    for lecture in LECTURES:
        info = visits[lecture_page(lecture)]
        assert info["outputImages"] == saved_images(read(lecture)), f"{lecture.name}: figures missing"
    assert {page: info["broken"] for page, info in visits.items() if info["broken"]} == {}


def test_every_explorer_has_the_notebooks_sliders(visits):
    for lecture in LECTURES:
        saved = saved_explorers(read(lecture))
        shown = visits[lecture_page(lecture)]["explorers"]
        assert [e["names"] for e in shown] == [slider_names(d) for d in saved], lecture.name
        assert all(all(label.strip() for label in e["labels"]) for e in shown)


def test_no_page_contains_solution_code_or_hidden_tests(site):
    public = "\n".join([(ROOT / "README.md").read_text()] + [
        cell.source + json.dumps(cell.get("outputs", [])) for p in [*LECTURES, *EXERCISES] for cell in read(p).cells])
    secret = set()
    for path in SOLUTIONS:
        for cell in read(path).cells:
            for begin, end in (("### BEGIN SOLUTION", "### END SOLUTION"),
                               ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")):
                for block in re.findall(re.escape(begin) + r"(.*?)" + re.escape(end), cell.source, flags=re.S):
                    secret |= {line.strip() for line in block.splitlines()}
    # lines the lectures or the exercise sheets show anyway are not secret
    secret = {line for line in secret if len(line) >= 16 and not line.startswith("#") and line not in public}
    assert len(secret) > 20, "the solutions hold fewer solution lines than expected: is the parsing right?"
    markers = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
    leaks = []
    for f in site.rglob("*"):
        if f.suffix in (".html", ".js", ".txt", ".ipynb", ".json") and "mathjax" not in f.parts:
            text = f.read_text(errors="replace")
            leaks += [f"{f.relative_to(site)}: {m}" for m in markers if m in text]
            if f.suffix == ".html":  # the code the page shows (prose may name a call a solution makes)
                code = html.unescape(re.sub(r"<[^>]+>", "", "\n".join(re.findall(r"<pre.*?</pre>", text, flags=re.S))))
                leaks += [f"{f.relative_to(site)}: {line}" for line in secret if line in code]
    assert leaks == []


def test_each_explorer_and_the_site_stay_within_budget(site):
    explorers = [d for d in (site / "_static" / "explorers").glob("*/*") if d.is_dir()]
    assert explorers, "no explorer frames in the site"
    sizes = {d.relative_to(site).as_posix(): sum(f.stat().st_size for f in d.iterdir()) for d in explorers}
    assert {k: v for k, v in sizes.items() if v > 3 * MB} == {}
    assert sum(f.stat().st_size for f in site.rglob("*") if f.is_file()) <= 60 * MB


# ---------------------------------------------------------------- the sliders
STATE = r"""async (k) => {
  // what explorer k shows, and what the page's own table says it should show for its slider values
  const root = document.querySelectorAll('.course-site-explorer')[k];
  const data = JSON.parse(root.querySelector('script.cse-data').textContent);
  const img = root.querySelector('img.cse-frame');
  await img.decode();
  let flat = 0;
  [...root.querySelectorAll('input[type=range]')].forEach((input, j) => {
    const s = data.sliders[j];
    flat = flat * s.positions.length + Math.round((parseFloat(input.value) - s.positions[0]) / s.step);
  });
  return {src: img.getAttribute('src'), readout: root.querySelector('.cse-readout').textContent,
          values: [...root.querySelectorAll('output.cse-value')].map(o => o.textContent),
          file: data.files[data.frames[flat]], expected: data.readouts[flat], loaded: img.naturalWidth > 0,
          alt: img.alt, figure: data.alt,
          hasText: data.readouts.some(r => r)};
}"""

RESET = r"""(k) => {
  const root = document.querySelectorAll('.course-site-explorer')[k];
  root.querySelectorAll('input[type=range]').forEach(i => {
    i.value = i.getAttribute('value');
    i.dispatchEvent(new Event('input', {bubbles: true}));
  });
}"""

SWAP_TIME = r"""async (k) => {
  // time from a slider's input event to its new frame being decoded, ready to paint
  const root = document.querySelectorAll('.course-site-explorer')[k];
  const input = root.querySelector('input[type=range]');
  const img = root.querySelector('img.cse-frame');
  const t0 = performance.now();
  if (input.value === input.max) input.stepDown(); else input.stepUp();
  input.dispatchEvent(new Event('input', {bubbles: true}));
  await img.decode();
  return performance.now() - t0;
}"""


def at_end(slider) -> bool:
    return float(slider.input_value()) >= float(slider.get_attribute("max"))


def move(page, k: int, slider, key: str) -> dict:
    slider.press(key)
    return page.evaluate(STATE, k)


def test_moving_each_slider_swaps_in_its_frame_and_readout_instantly(visitor, site):
    """Keyboard moves on every slider of every explorer; screenshots of each week's first explorer."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page, swaps, checked = visitor.page, [], 0
    for lecture in LECTURES:
        visitor.open(site / lecture_page(lecture))
        explorers = page.locator(".course-site-explorer")
        for k in range(explorers.count()):
            box = explorers.nth(k)
            box.scroll_into_view_if_needed()
            if k == 0:
                box.screenshot(path=str(ARTEFACTS / f"{lecture.stem}-explorer-a.png"))
            start = page.evaluate(STATE, k)
            assert start["src"].endswith(start["file"]) and start["readout"] == start["expected"], lecture.name
            text_moves = False
            for j in range(box.locator("input[type=range]").count()):
                slider, where = box.locator("input[type=range]").nth(j), f"{lecture.name} explorer {k} slider {j}"
                at_max = at_end(slider)
                for key in ("ArrowLeft" if at_max else "ArrowRight", "Home" if at_max else "End"):
                    now = move(page, k, slider, key)
                    assert now["src"] != start["src"], f"{where} ({key}): the figure did not change"
                    assert now["values"] != start["values"], f"{where} ({key}): the slider's read-out did not change"
                    assert now["src"].endswith(now["file"]) and now["loaded"], f"{where} ({key}): wrong frame"
                    assert now["readout"] == now["expected"], f"{where} ({key}): the text is not the frame's"
                    assert now["figure"] and now["figure"] in now["alt"] and now["alt"].endswith(now["expected"]), (
                        f"{where} ({key}): the frame's alt text {now['alt']!r} does not describe it")
                    text_moves |= now["readout"] != start["readout"]
                page.evaluate(RESET, k)
                assert page.evaluate(STATE, k)["src"] == start["src"], f"{where}: not back at the start"
                checked += 1
            assert text_moves or not start["hasText"], f"{lecture.name} explorer {k}: its text never changed"
            swaps.append(page.evaluate(SWAP_TIME, k))
            page.evaluate(RESET, k)
            if k == 0:
                first = box.locator("input[type=range]").first
                first.press("Home" if at_end(first) else "End")
                page.evaluate(STATE, k)
                box.screenshot(path=str(ARTEFACTS / f"{lecture.stem}-explorer-b.png"))
        assert visitor.problems == [], lecture.name
    assert checked, "no slider found on any lecture page"
    (ARTEFACTS / "swap_times_ms.json").write_text(json.dumps(sorted(round(t, 1) for t in swaps)))
    assert max(swaps) < 250, f"a frame took {max(swaps):.0f} ms to appear"


def test_screenshots_of_the_home_page_a_lecture_and_an_exercise_set(visitor, site):
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    shots = {"home": "index.html", "lecture": lecture_page(LECTURES[min(1, len(LECTURES) - 1)]),
             "exercises": exercise_page(EXERCISES[0])}
    for name, page in shots.items():
        visitor.open(site / page)
        if name == "lecture":  # where the math is
            visitor.page.locator("mjx-container").first.scroll_into_view_if_needed()
            time.sleep(0.2)
        visitor.page.screenshot(path=str(ARTEFACTS / f"page-{name}.png"))
        assert (ARTEFACTS / f"page-{name}.png").stat().st_size > 10_000
