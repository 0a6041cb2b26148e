"""Does refining probe maps with the image (`emssl.probe.guided_filter`) raise Dice on held-out data?

For each labelled set of `benchmarks/representation.py` (gala and neuroproof membranes, TARDIS microtubules), the
filter-bank random-forest probe (the strongest classic anchor) is fitted on the training volume(s). The test volume
is cut in two along z: the guided filter's radius and eps are chosen on the first half (grid: radius 1, 2, 3 ×
eps 1e-3, 1e-2, 1e-1, by Dice at 0.5), and Dice at 0.5 is reported on the second half with and without it.

python benchmarks/probe_refine.py
"""
import sys, time
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(__file__).parent))
from results import write_section
from representation import datasets
from emssl.probe import filter_bank, fit_probe, predict_volume, boundary_mask, guided_filter

def dice(p, t, th=0.5):
    a, b = p > th, t > 0
    return 2 * float((a & b).sum()) / max(float(a.sum() + b.sum()), 1.)

def main():
    sets, _ = datasets()
    rows = ["| labelled set | Dice at 0.5, probe | Dice at 0.5, probe + guided filter | chosen radius, eps | gain |", "| --- | --- | --- | --- | --- |"]
    t0 = time.time()
    for name, d in sets.items():
        target = (lambda l: boundary_mask(l)) if d.get('boundary') else (lambda l: (l == d['classes'][0]).astype(np.uint8))
        feats = [filter_bank(img) for img, _ in d['train']]
        clf = fit_probe(feats, [target(l) for _, l in d['train']], 'forest', n_per_class=5000, seed=0)
        img, lab = d['test'][0]
        t = target(lab)
        prob = predict_volume(clf, filter_bank(img))[list(clf.classes_).index(1)]   # the image as the training volumes were given
        img = np.asarray(img, np.float32)
        h = img.shape[0] // 2
        tune, test = np.s_[:h], np.s_[h:]
        best = max(((r, e) for r in (1, 2, 3) for e in (1e-3, 1e-2, 1e-1)),
                   key=lambda re: dice(guided_filter(prob[tune], img[tune], *re), t[tune]))
        before, after = dice(prob[test], t[test]), dice(guided_filter(prob[test], img[test], *best), t[test])
        print(name, before, after, best, flush=True)
        rows.append(f"| {name} | {before:.3f} | {after:.3f} | {best[0]}, {best[1]:g} | {after - before:+.3f} |")
    body = '\n'.join([f"Filter-bank random-forest probe (5,000 voxels per class), test volume split along z: refinement chosen on the first half, "
                      f"Dice on the second. One run, {time.time() - t0:.0f} s.", ""] + rows)
    print(body)
    if '--no-write' not in sys.argv: write_section('Probe refinement: guided filter against the raw probe map (cpu)', body, 'python benchmarks/probe_refine.py')

if __name__ == '__main__': main()
