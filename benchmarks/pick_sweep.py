"""One picking run of the recipe check in RESULTS.md (run 8 at once on the H200): its own 7-run synthetic project, train, tune, test, baseline.

    python benchmarks/pick_sweep.py NAME DATA_JSON TRAIN_JSON      # e.g. r {} {}   or   rdice {} {\"dice\": 1.0}

DATA_JSON: options of `write_synthetic_project` ({\"realistic\": false} for the easy imaging); TRAIN_JSON: options of `train_picker`.
"""
import sys, time, json
from pathlib import Path
import numpy as np, torch
from emssl.synthetic import write_synthetic_project, CRYOET_REALISTIC
from emssl.cryoet import *
from emssl.cryoet import _picks_A
name, data, tk = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
root = Path('/tmp/sw')/name
realistic = data.pop('realistic', True)
write_synthetic_project(root/'proj', runs=7, shape=(64, 128, 128), voxel_size=2.0, n_per_class=4, realistic=realistic, **data)
proj = CopickProject(root/'proj')
t = time.time()
kw = dict(crop=48, epochs=18, crops_per_epoch=128, bs=4, device='cuda', workers=1); kw.update(tk)
train_picker(proj, root/'run', runs=proj.runs[:5], valid_runs=['TS_5'], progress=False, **kw)
tt = time.time() - t
net, meta = load_picker(root/'run'/'picker.pt')
res = predict_picks((net, meta), proj, runs=['TS_6'], device='cuda')
s, tab = score_picks(proj, res, runs=['TS_6'])
radii = {k: r / 10 / 2.0 for k, r in proj.radii.items()}
c5 = intensity_candidates(proj.tomogram('TS_5'), proj.names, radii)
th, fb = tune_thresholds([c5], [_picks_A(proj.picks('TS_5'), (2.,) * 3)], [(2.,) * 3], proj.radii)
b = score_picks(proj, {'TS_6': apply_thresholds(intensity_candidates(proj.tomogram('TS_6'), proj.names, radii), th)}, runs=['TS_6'])[0]
v = json.loads((root/'run'/'metrics.json').read_text())['score']
print(json.dumps(dict(name=name, data=data, realistic=realistic, train=tk, test=round(s, 4), valid=round(v, 4), baseline=round(b, 4), train_s=round(tt), fb=tab.fbeta.round(3).to_dict())), flush=True)
