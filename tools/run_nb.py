"""Execute notebooks in place and keep their outputs (for notebooks whose outputs are part of the docs,
e.g. index.ipynb → README.md). Uses execnb, as nbdev does, so no Jupyter kernel is needed.

    python tools/run_nb.py nbs/index.ipynb [more.ipynb ...]
"""
import os, sys
from pathlib import Path
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell

for p in map(Path, sys.argv[1:]):
    nb = read_nb(p)
    cwd = os.getcwd(); os.chdir(p.parent)
    try:
        sh = CaptureShell(); sh.run_all(nb, exc_stop=True)
    finally: os.chdir(cwd)
    write_nb(nb, p); print(f"executed {p}")
