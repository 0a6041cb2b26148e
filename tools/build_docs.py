"""Build the documentation site without quarto, and check it in a real browser.

quarto cannot be installed on every machine (its package downloads a binary), so CI builds the same pages another
way: nbdev's own notebook processing (`nbdev_proc_nbs`: exported cells, imports and `show_doc` run, API tables
rendered, directives kept), then HTML through nbconvert, one page per notebook under the name quarto gives it
(`output-file`), with the sidebar of `nbs/sidebar.yml` (pages grouped by band). With quarto installed,
`nbdev_docs` builds the site from the same processed notebooks.

    python tools/build_docs.py                # pages in _site/
    python tools/build_docs.py --check        # and open two pages in headless Chromium: API entry, figure, not blank
"""
import argparse, html, json, re, shutil, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS, PROC = ROOT/'nbs', ROOT/'_proc'
_DIRECTIVE = re.compile(r'^#\|\s*(.*)$')

def _frontmatter(nb) -> dict:
    import yaml
    for c in nb.cells:
        if c.cell_type == 'raw' and c.source.lstrip().startswith('---'):
            return yaml.safe_load(c.source.strip().strip('-')) or {}
    return {}

def _page(nb_path: Path) -> tuple:
    "(file name, title, notebook ready for nbconvert) of a processed notebook."
    import nbformat
    nb = nbformat.read(nb_path, as_version=4)
    fm = _frontmatter(nb)
    name = fm.get('output-file') or nb_path.stem + '.html'
    cells = []
    if fm.get('title'):
        head = f"# {fm['title']}" + (f"\n\n> {' '.join(str(fm['description']).split())}" if fm.get('description') else '')
        cells.append(nbformat.v4.new_markdown_cell(head))
    for c in nb.cells:
        if c.cell_type == 'raw': continue
        if c.cell_type == 'code':
            lines = c.source.splitlines()
            dirs = [_DIRECTIVE.match(l).group(1) for l in lines if _DIRECTIVE.match(l)]
            c.source = '\n'.join(l for l in lines if not _DIRECTIVE.match(l)).strip('\n')
            if any(d.replace(' ', '') in ('echo:false', 'hide', 'include:false') for d in dirs): c.metadata['tags'] = ['hide-input']
            if any(d.replace(' ', '') == 'include:false' for d in dirs) or any(d.startswith(('export', 'hide')) for d in dirs): continue
            if not c.source and not c.get('outputs'): continue
        cells.append(c)
    nb.cells = cells
    return name, fm.get('title') or nb_path.stem, nb

def _sidebar() -> list:
    "[(section, [notebook names])] of nbs/sidebar.yml."
    import yaml
    out = []
    for item in yaml.safe_load((NBS/'sidebar.yml').read_text())['website']['sidebar']['contents']:
        if isinstance(item, str): out.append(('', [item]))
        else: out.append((item['section'], list(item['contents'])))
    return out

def build(out: Path) -> dict:
    "Process the notebooks with nbdev, write one HTML page per sidebar entry in `out`; {notebook: page}."
    from nbconvert import HTMLExporter
    from traitlets.config import Config
    r = subprocess.run([str(Path(sys.executable).parent/'nbdev_proc_nbs')], cwd=ROOT, capture_output=True, text=True)
    if r.returncode: sys.exit(f"nbdev_proc_nbs failed:\n{r.stderr[-4000:]}")
    cfg = Config(); cfg.TagRemovePreprocessor.remove_input_tags = {'hide-input'}; cfg.TagRemovePreprocessor.enabled = True
    exp = HTMLExporter(config=cfg, template_name='lab', exclude_input_prompt=True, exclude_output_prompt=True)
    side = _sidebar()
    pages = {}
    for _, nbs in side:
        for nb in nbs: pages[nb] = _page(PROC/nb)
    nav = ['<nav class="emssl-sidebar"><a class="emssl-home" href="index.html">emssl</a>']
    for sec, nbs in side:
        if sec: nav.append(f'<div class="emssl-section">{html.escape(sec)}</div>')
        nav += [f'<a href="{pages[nb][0]}">{html.escape(pages[nb][1])}</a>' for nb in nbs]
    nav = '\n'.join(nav + ['</nav>'])
    style = ('<style>.emssl-sidebar{position:fixed;top:0;left:0;width:210px;height:100%;overflow:auto;padding:12px;'
             'font:14px sans-serif;background:#f6f8fa;border-right:1px solid #ddd}.emssl-sidebar a{display:block;padding:2px 0;'
             'color:#0366d6;text-decoration:none}.emssl-section{margin-top:10px;font-weight:bold;color:#555}'
             '.emssl-home{font-size:18px;font-weight:bold}body{margin-left:240px!important}</style>')
    if out.exists(): shutil.rmtree(out)
    out.mkdir(parents=True)
    for nb, (name, title, node) in pages.items():
        body, _ = exp.from_notebook_node(node)
        body = body.replace('{target="_blank" style="float:right; font-size:smaller"}', '')   # a quarto link attribute
        body = body.replace('<title>Notebook</title>', f'<title>{html.escape(title)} – emssl</title>')
        body = re.sub(r'(<body[^>]*>)', lambda m: m.group(1) + nav, body, count=1).replace('</head>', style + '</head>', 1)
        body = re.sub(r'href="([0-9]{2}_[a-z_]+)\.ipynb', lambda m: f'href="{_html_name(pages, m.group(1))}', body)
        (out/name).write_text(body)
    for extra in ('images', 'styles.css'):
        if (NBS/extra).exists(): (shutil.copytree if (NBS/extra).is_dir() else shutil.copy)(NBS/extra, out/extra)
    return {nb: v[0] for nb, v in pages.items()}

def _html_name(pages, stem): return pages.get(stem + '.ipynb', (stem + '.html',))[0]

def check(out: Path, pages: dict):
    "Open two pages in headless Chromium: each DOM holds an API entry (heading, signature, docstring) and a figure, and its screenshot is not blank."
    import numpy as np
    from PIL import Image
    from emssl.atlas import find_chromium   # one place that knows the browser's names
    browser = find_chromium()
    if browser is None: sys.exit("no Chromium found: install Debian's chromium to check the docs")
    flags = [browser, '--headless=new', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--window-size=1200,1600']
    for nb in ('01_io.ipynb', '21_mae.ipynb'):
        url = (out/pages[nb]).resolve().as_uri()
        dom = subprocess.run(flags + ['--dump-dom', url], capture_output=True, text=True, timeout=120).stdout
        # nbdev 2.4's show_doc: a heading per function, its signature (parameters with their docments) and docstring
        api = re.search(r'<h3 id="([A-Za-z_]\w*)">.{0,200}?<pre>.{0,400}?(?:def|class)</span>.{0,200}?\1', dom, re.S)
        fig = re.search(r'<img[^>]+src="data:image/png;base64,', dom)
        if not api or not fig: sys.exit(f"{pages[nb]}: {'no API entry' if not api else ''} {'no figure' if not fig else ''} in the rendered page")
        with tempfile.TemporaryDirectory() as d:
            png = Path(d)/'shot.png'
            subprocess.run(flags + [f'--screenshot={png}', url], capture_output=True, timeout=120)
            a = np.asarray(Image.open(png).convert('L'), np.float32)
            shutil.copy(png, out/f'_check_{Path(pages[nb]).stem}.png')
        if a.std() < 10: sys.exit(f"{pages[nb]}: the screenshot is blank (grey-level spread {a.std():.1f})")
        print(f"checked {pages[nb]} in {Path(browser).name}: API entry ({api.group(1)}), figure, screenshot spread {a.std():.0f}")

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--out', default=str(ROOT/'_site')); p.add_argument('--check', action='store_true')
    a = p.parse_args()
    out = Path(a.out)
    pages = build(out)
    print(f"wrote {len(pages)} pages to {out}")
    if a.check: check(out, pages)
