"""Build README.md from nbs/index.ipynb without quarto.

`nbdev_readme` renders the README through quarto, which cannot be installed everywhere. This script
does the same job with nbdev's own notebook processors (hidden cells and lines, export directives and
magics removed, frontmatter dropped) followed by nbconvert's markdown exporter. Where quarto is
installed, `nbdev_readme` gives an equivalent file.

    python tools/build_readme.py          # write README.md
    python tools/build_readme.py --check  # exit 1 if README.md is not current (CI)
"""
import sys
from pathlib import Path
import nbformat
from nbconvert import MarkdownExporter
from nbdev.process import NBProcessor
import re
from nbdev.processors import hide_, hide_line, filter_stream_, rm_export, clean_magics, strip_ansi
from execnb.nbio import write_nb

root = Path(__file__).resolve().parents[1]

def render(nb_path=root/'nbs'/'index.ipynb') -> str:
    proc = NBProcessor(nb_path, procs=[hide_, hide_line, filter_stream_, rm_export, clean_magics, strip_ansi])
    proc.process()
    tmp = root/'_proc_index.ipynb'
    try:
        write_nb(proc.nb, tmp)
        nb = nbformat.read(tmp, as_version=4)
    finally: tmp.unlink(missing_ok=True)
    nb.metadata['language_info'] = {'name': 'python'}   # fenced code blocks tagged `python`
    body, _ = MarkdownExporter(exclude_raw=True).from_notebook_node(nb)
    text = re.sub(r'\n{3,}', '\n\n', body).strip() + '\n'
    text = text.replace('](images/', '](nbs/images/')   # the notebook's images, seen from the repository root
    return "<!-- Generated from nbs/index.ipynb by tools/build_readme.py: edit the notebook, not this file. -->\n\n" + text

if __name__ == '__main__':
    text, out = render(), root/'README.md'
    if '--check' in sys.argv:
        if not out.exists() or out.read_text() != text:
            sys.exit("README.md is not current: run `python tools/build_readme.py` and commit it")
        print("README.md is current")
    else: out.write_text(text); print(f"wrote {out}")
