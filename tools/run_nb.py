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
    except Exception:
        for c in nb.cells:   # show the outputs of the cell that failed
            if c.cell_type == 'code' and any(o.get('output_type') == 'error' for o in c.get('outputs', [])):
                print(c.source, *[o.get('text', '') for o in c.outputs], sep='\n', file=sys.stderr)
        raise
    finally: os.chdir(cwd)
    write_nb(nb, p); print(f"executed {p}")
