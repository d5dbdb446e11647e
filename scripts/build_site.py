"""Build the static course site (``make site``): readable with no install, and its sliders work without a kernel.

Usage: python scripts/build_site.py [--out site] [--jobs N] [--no-cache]

1. frames: each lecture whose saved outputs show an explorer or a figure runs once in a kernel with
   COURSE_SITE_FRAMES set; course_utils.site draws every explorer at each slider position, and describes
   every figure the lecture displays (its titles, axis labels, legend: course_utils.site.describe_figure).
   Cached in build/site/frames/ by a hash of the notebook's code and of course_utils, so a rebuild without
   changes executes nothing.
2. stage: build/site/src/ gets docs/site/ (conf.py, pages, JS/CSS), README.md as the home page with the
   course's table of contents, the lectures (each explorer output replaced by its kernel-free explorer,
   each figure output given its description as alt text: output metadata image/png alt, which conf.py
   puts on the figure's <img>; a figure that already has an alt in its metadata keeps it),
   the student exercises (exercises/, never solutions/) and MathJax from node_modules/ (`npm ci`).
3. sphinx: sphinx-build -W into --out, from the committed outputs: a broken reference fails the build.
4. budget: at most 3 MB per explorer and 60 MB for the whole site; prints frame counts, sizes and times.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import nbformat

from course_utils.site import BUDGET, explorer_html
from course_utils.widgets._core import SITE_FRAMES_ENV

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build" / "site"
MATHJAX = ROOT / "node_modules" / "mathjax"
MB = 1_000_000
EXPLORER_BUDGET, SITE_BUDGET = BUDGET, 60 * MB
FRAMES_VERSION = "2"  # bump when the frame format changes, to invalidate the cache
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
FIGURE = "image/png"


class BuildError(RuntimeError):
    """The site cannot be built as it stands (the message says what to do)."""


# ---------------------------------------------------------------- sources
def lectures() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("week*.ipynb"))


def exercise_notebooks() -> list[Path]:
    return sorted((ROOT / "exercises").glob("week*/*.ipynb"))


def explorer_outputs(nb) -> list[tuple[int, int, str]]:
    """(cell, output, description) of each saved explorer output, in notebook order."""
    found = []
    for i, cell in enumerate(nb.cells):
        for j, out in enumerate(cell.get("outputs", [])):
            text = out.get("data", {}).get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else text
            if text.startswith("Explorer:"):
                found.append((i, j, text))
    return found


def figure_outputs(nb) -> list[tuple[int, int]]:
    """(cell, output) of each saved figure (a PNG output that is not an explorer's), in notebook order."""
    explorers = {(i, j) for i, j, _ in explorer_outputs(nb)}
    return [(i, j) for i, cell in enumerate(nb.cells) for j, out in enumerate(cell.get("outputs", []))
            if FIGURE in out.get("data", {}) and (i, j) not in explorers]


# ---------------------------------------------------------------- 1. frames
def frames_key(path: Path) -> str:
    """Changes when the lecture's code, course_utils or the pinned versions change."""
    h = hashlib.sha256(FRAMES_VERSION.encode())
    nb = nbformat.read(path, as_version=4)
    h.update(json.dumps([c.source for c in nb.cells if c.cell_type == "code"]).encode())
    for f in sorted((ROOT / "course_utils").rglob("*.py")):
        h.update(f.relative_to(ROOT).as_posix().encode() + f.read_bytes())
    h.update((ROOT / "constraints.txt").read_bytes())
    return h.hexdigest()[:16]


def run_lecture(path: str, dest: str) -> float:
    """Execute a lecture in a fresh kernel (in its folder, as nbval does); its explorers' frames go to ``dest``,
    and the description of each figure it displays to ``dest/figures.json`` ({cell: [alt of each figure]})."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(
        "from course_utils.site import describe_displayed_figures\ndescribe_displayed_figures()"))
    nb.cells.append(nbformat.v4.new_code_cell(
        f"from course_utils.site import write_registered\n_ = write_registered({dest!r})"))
    start = time.perf_counter()
    NotebookClient(nb, timeout=900, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(Path(path).parent)}}).execute()
    nb.cells = nb.cells[1:-1]
    figures: dict[str, list[str]] = {}
    for i, j in figure_outputs(nb):
        alt = nb.cells[i].outputs[j].get("metadata", {}).get(FIGURE, {}).get("alt", "")
        figures.setdefault(str(i), []).append(alt)
    (Path(dest) / "figures.json").write_text(json.dumps(figures, indent=1, ensure_ascii=False))
    return time.perf_counter() - start


def frames_for(paths: list[Path], jobs: int, use_cache: bool) -> dict[str, Path]:
    """{lecture stem: folder with explorers.json, figures.json and one folder of frames per explorer}."""
    from course_utils.jupyter_env import isolate_this_process

    todo, found = {}, {}
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        if not (explorer_outputs(nb) or figure_outputs(nb)):
            continue
        folder = BUILD / "frames" / path.stem / frames_key(path)
        found[path.stem] = folder
        if not (use_cache and (folder / "explorers.json").exists() and (folder / "figures.json").exists()):
            shutil.rmtree(folder.parent, ignore_errors=True)  # older keys of this lecture too
            folder.mkdir(parents=True)
            todo[path] = folder
    if todo:
        isolate_this_process("course-site-")
        os.environ[SITE_FRAMES_ENV] = "1"
        os.environ.setdefault("COURSE_DEVICE", "cpu")
        # the lectures run side by side: one math thread each instead of every kernel using every core
        os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // min(jobs, len(todo)))))
        with ProcessPoolExecutor(max_workers=min(jobs, len(todo))) as pool:
            # the biggest notebooks (the ones that train) first, so no long run starts last
            runs = {pool.submit(run_lecture, str(p), str(todo[p])): p
                    for p in sorted(todo, key=lambda p: p.stat().st_size, reverse=True)}
            for run in as_completed(runs):
                p = runs[run]
                try:
                    print(f"  ran {p.relative_to(ROOT)} for its explorers' frames and figures' alt texts: "
                          f"{run.result():.0f} s", flush=True)
                except Exception as e:
                    shutil.rmtree(todo[p], ignore_errors=True)
                    raise BuildError(f"{p.relative_to(ROOT)} failed to run: {str(e)[-2000:]}") from None
    return found


# ---------------------------------------------------------------- 2. stage
def site_links(text: str, doc: str, pages: set[str]) -> str:
    """Markdown links to files that are not pages of the site become plain text (Makefile, solutions/ ...).

    ``doc``: the page's path in the site; ``pages``: every page's source path. Links to pages (a lecture's
    .ipynb, another .md) stay: MyST turns them into links to the built pages.
    """
    def fix(m):
        label, target = m.group(1), m.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:|^#", target):
            return m.group(0)
        path = os.path.normpath(os.path.join(os.path.dirname(doc), target.split("#")[0]))
        return m.group(0) if path in pages else label

    return re.sub(r"(?<!!)\[([^\]]+)\]\(([^)\s]+)\)", fix, text)


def home_page(readme: str, lecture_docs: list[str], exercise_docs: list[str], pages: set[str]) -> str:
    """README.md with site links, then the hidden tables of contents that make the sidebar (weeks in order)."""
    def toc(caption, docs):
        return "\n```{toctree}\n:hidden:\n:caption: " + caption + "\n\n" + "\n".join(docs) + "\n```\n"

    return (site_links(readme, "index.md", pages) + "\n" + toc("Lectures", lecture_docs)
            + toc("Exercises", exercise_docs) + toc("The course", ["run-it-yourself", "docs/contributing"]))


def stage_lecture(path: Path, frames: Path | None, src: Path) -> int:
    """Copy a lecture into the site: each explorer output becomes its kernel-free explorer. Returns how many."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("widgets", None)  # saved widget state: views that need a kernel
    saved = explorer_outputs(nb)
    if saved:
        shown = json.loads((frames / "explorers.json").read_text())
        if [d["describe"] for d in shown] != [text for _, _, text in saved]:
            raise BuildError(
                f"{path.relative_to(ROOT)}: its saved outputs show the explorers {[t for _, _, t in saved]}, but "
                f"running it displays {[d['describe'] for d in shown]}; re-execute it: "
                f"make execute NB={path.relative_to(ROOT)}")
        for n, ((i, j, text), display) in enumerate(zip(saved, shown, strict=True)):
            static = Path("_static") / "explorers" / path.stem / display["dir"]
            if not (src / static).exists():
                shutil.copytree(frames / display["dir"], src / static, ignore=shutil.ignore_patterns("*.json"))
            manifest = json.loads((frames / display["dir"] / "manifest.json").read_text())
            base = os.path.relpath(src / static, src / "notebooks").replace(os.sep, "/") + "/"
            nb.cells[i].outputs[j] = nbformat.v4.new_output(
                "display_data", data={"text/html": explorer_html(manifest, base, f"cse-{path.stem}-{n}"),
                                      "text/plain": text})
    describe_figures(nb, path, frames)
    nbformat.write(nb, src / "notebooks" / path.name)
    return len(saved)


def describe_figures(nb, path: Path, frames: Path | None) -> None:
    """Give each saved figure of ``nb`` the alt text its run recorded (``frames/figures.json``).

    A figure whose output metadata already holds an alt keeps it. BuildError when the run displayed other
    figures than the saved outputs show, or when a figure has nothing to describe it (no title, label or legend).
    """
    saved = figure_outputs(nb)
    if not saved:
        return
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    described = json.loads((frames / "figures.json").read_text()) if frames is not None else {}
    counts = {}
    for i, _ in saved:
        counts[str(i)] = counts.get(str(i), 0) + 1
    if counts != {cell: len(alts) for cell, alts in described.items()}:
        raise BuildError(
            f"{where}: its saved outputs show figures in cells {counts}, but running it displays figures in cells "
            f"{ {cell: len(alts) for cell, alts in described.items()} }; re-execute it: make execute NB={where}")
    seen: dict[int, int] = {}
    for i, j in saved:
        k = seen[i] = seen.get(i, -1) + 1
        meta = nb.cells[i].outputs[j].setdefault("metadata", {})
        per_type = meta.setdefault(FIGURE, {})
        per_type.setdefault("alt", described[str(i)][k])
        if not str(per_type["alt"]).strip():
            raise BuildError(
                f"{where}: the figure of cell {i} has no title, axis label or legend to describe it; give it a title, "
                f"or an alt text in its output's metadata ({FIGURE}: alt)")


def copy_mathjax(dest: Path) -> None:
    """MathJax 3's CommonHTML build, its fonts, and the extensions and a11y parts it loads on demand."""
    es5 = MATHJAX / "es5"
    if not (es5 / "tex-mml-chtml.js").exists():
        raise BuildError("MathJax is missing: run `npm ci` (make site does) to install node_modules/mathjax")
    dest.mkdir(parents=True)
    shutil.copy2(es5 / "tex-mml-chtml.js", dest)
    shutil.copy2(MATHJAX / "LICENSE", dest)
    for part in ("input", "a11y", "ui", "sre", "adaptors"):
        shutil.copytree(es5 / part, dest / part)
    shutil.copytree(es5 / "output" / "chtml", dest / "output" / "chtml")


def stage(src: Path, frames: dict[str, Path]) -> None:
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(ROOT / "docs" / "site", src, ignore=shutil.ignore_patterns("__pycache__"))
    (src / "notebooks").mkdir()
    lecture_docs = [f"notebooks/{p.stem}" for p in lectures()]
    exercise_docs = [p.relative_to(ROOT).with_suffix("").as_posix() for p in exercise_notebooks()]
    pages = {d + ".ipynb" for d in lecture_docs + exercise_docs}
    pages |= {"index.md", "run-it-yourself.md", "docs/contributing.md"}
    for path in lectures():
        stage_lecture(path, frames.get(path.stem), src)
    for path in exercise_notebooks():
        (src / path.relative_to(ROOT)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, src / path.relative_to(ROOT))
    (src / "docs").mkdir()
    contributing = (ROOT / "docs" / "contributing.md").read_text()
    (src / "docs" / "contributing.md").write_text(site_links(contributing, "docs/contributing.md", pages))
    readme = (ROOT / "README.md").read_text()
    (src / "index.md").write_text(home_page(readme, lecture_docs, exercise_docs, pages))
    copy_mathjax(src / "_static" / "mathjax")


# ---------------------------------------------------------------- 3. sphinx, 4. budget
def sphinx(src: Path, out: Path, jobs: int) -> None:
    # into build/ first: myst-nb writes its own copies of the notebooks next to the output folder
    html = BUILD / "html"
    shutil.rmtree(html, ignore_errors=True)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W", "--keep-going", "-E", "-j", str(jobs),
           "-d", str(BUILD / "doctrees"), str(src), str(html)]
    if subprocess.run(cmd).returncode:
        raise BuildError("sphinx-build failed (its warnings are above)")
    if out.exists() and any(out.iterdir()) and not (out / "searchindex.js").exists():
        raise BuildError(f"{out} is not empty and holds no earlier build of the site: not replacing it")
    shutil.rmtree(out, ignore_errors=True)
    shutil.move(html, out)


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def check_budget(out: Path, frames: dict[str, Path]) -> list[str]:
    """One line per explorer (frames, files, size) and the site's size; BuildError when over budget."""
    lines, over = [], []
    for stem, folder in sorted(frames.items()):
        for display in json.loads((folder / "explorers.json").read_text()):
            manifest = json.loads((folder / display["dir"] / "manifest.json").read_text())
            on_site = out / "_static" / "explorers" / stem / display["dir"]
            if not on_site.exists():  # the lecture changed while the site was built
                continue
            size = folder_bytes(on_site)
            shape = " x ".join(str(len(a["positions"])) for a in manifest["sliders"])
            lines.append(f"  {stem} #{display['dir']}: {manifest['title']}: {len(manifest['frames'])} frames "
                         f"({shape}), {len(manifest['files'])} files, {size / MB:.2f} MB, "
                         f"drawn in {manifest.get('seconds', 0):.0f} s")
            if size > EXPLORER_BUDGET:
                over.append(f"{stem} explorer {display['dir']} is {size / MB:.1f} MB (budget 3 MB)")
    total = folder_bytes(out)
    lines.append(f"  site: {total / MB:.1f} MB in {sum(1 for f in out.rglob('*') if f.is_file())} files")
    if total > SITE_BUDGET:
        over.append(f"the site is {total / MB:.1f} MB (budget 60 MB)")
    if over:
        raise BuildError("over budget: " + "; ".join(over))
    return lines


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="site", help="output folder (default: site/)")
    ap.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1), help="lectures run side by side")
    ap.add_argument("--no-cache", action="store_true", help="re-run every lecture for its explorers' frames")
    args = ap.parse_args(argv)
    out = (ROOT / args.out) if not Path(args.out).is_absolute() else Path(args.out)
    t0 = time.perf_counter()
    try:
        print("frames ...", flush=True)
        frames = frames_for(lectures(), args.jobs, not args.no_cache)
        t1 = time.perf_counter()
        stage(BUILD / "src", frames)
        print("sphinx ...", flush=True)
        sphinx(BUILD / "src", out, args.jobs)
        lines = check_budget(out, frames)
    except BuildError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    t2 = time.perf_counter()
    print("\n".join(lines))
    print(f"built {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out} in {t2 - t0:.0f} s "
          f"(frames {t1 - t0:.0f} s, pages {t2 - t1:.0f} s); open {out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
