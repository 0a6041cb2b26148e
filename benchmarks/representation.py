"""Does pretraining pay? Frozen features of emssl's self-supervised encoders, probed per voxel on real labelled EM,
against the same network at random initialisation (the floor) and an ilastik-style filter bank with logistic
regression and with a random forest (the classic anchor), all in one run.

    python benchmarks/representation.py --budget 5 --seeds 0 1 2

Pretraining data (none of it from the test regions): the unlabelled training image of the gala medulla FIB-SEM,
the unlabelled neuroproof cube (sample 1), the training half of neuroproof sample 2 and the bundled FlyEM sample.
Probe tasks (boundary = voxels of id 0 or between two bodies):
- gala: boundaries, train on `train-image`, test on `test-image` (the repository's copy, realdata/);
- neuroproof: boundaries, train on z 0:64 of sample 2, test on the held-out z 186:250 (both y, x 61:189);
- tardis: microtubule masks of electron tomograms, train on three crops, test on the fourth (MAE/BYOL pretrained
  on the three training tomograms only).
Each pretraining method gets the same wall-clock budget on this machine (`--budget` minutes): an epoch is timed
first and the number of epochs set to fill the budget. Probes are fitted on `--n` voxels per class for each seed.
Writes runs/representation/results.json and prints the markdown section for benchmarks/RESULTS.md.
"""
import argparse, json, os, platform, sys, time
from pathlib import Path
import numpy as np, torch, h5py, tifffile

root = Path(__file__).resolve().parents[1]
shared = root.parent/'shared'/'realdata'
sys.path.insert(0, str(root))
from emssl.io import open_volume, load_sample
from emssl.probe import probe_report
from emssl.features import encoder_layers
from emssl.core import load_encoder
from emssl.mae import pretrain_mae
from emssl.byol import pretrain_byol
from emssl.simclr import pretrain_simclr

def h5(p): 
    with h5py.File(p) as f: return f['stack'][:]

def datasets():
    g = root/'realdata'/'fibsem_medulla_gala'
    gala = dict(train=[(h5(g/'train-image.h5'), h5(g/'train-gt.lzf.h5'))], test=[(h5(g/'test-image.h5'), h5(g/'test-gt.lzf.h5'))], boundary=True)
    npf = shared/'fibsem_medulla_neuroproof'
    raw, bodies = tifffile.imread(npf/'sample2_raw.tif'), tifffile.imread(npf/'sample2_bodies.tif')
    yx = np.s_[61:189, 61:189]
    neuro = dict(train=[(raw[0:64][(slice(None),) + yx], bodies[0:64][(slice(None),) + yx])],
                 test=[(raw[186:250][(slice(None),) + yx], bodies[186:250][(slice(None),) + yx])], boundary=True)
    t = root/'realdata'/'tomo_microtubules_tardis'
    names = ['3_0_25_54_25', '4_0_55_98_25', '5_0_28_54_25', '0_0_30_47_25']
    pairs = [(tifffile.imread(t/f'{n}.tif'), tifffile.imread(t/f'{n}_mask.tif')) for n in names]
    tardis = dict(train=pairs[:3], test=pairs[3:], classes=[1])
    em_unlabelled = [gala['train'][0][0], tifffile.imread(npf/'sample1_raw_unlabelled.tif'), raw[:125], np.asarray(load_sample())]
    return {'gala': gala, 'neuroproof': neuro, 'tardis': tardis}, {'em': em_unlabelled, 'tomo': [p[0] for p in pairs[:3]]}

def save_vols(vols, folder):
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, v in enumerate(vols):
        p = folder/f'vol{i}.npy'; np.save(p, np.ascontiguousarray(v)); out.append(str(p))
    return out

MODEL_FILE = dict(mae='mae.pt', mim='mae.pt', byol='byol.pt', simclr='simclr.pt')
UNET = [16, 32, 64, 128]   # the U-Net widths of BYOL, SimCLR and the convolutional MAE (mim) alike

def pretrain(method, vols, out, budget_s, seed, reuse=False):
    "Pretrain `method` on `vols` for about `budget_s` seconds (one timed epoch sets the number of epochs); the model file."
    done = Path(out)/MODEL_FILE[method]
    if reuse and done.exists():   # a finished run of an earlier call: its model, epochs and time
        h = (Path(out)/'history.csv').read_text().splitlines()
        return done, len(h) - 1, float('nan')
    kw = dict(mae=dict(arch='tiny', crop=32, patch_size=4, bs=8, crops_per_epoch=256, lr=1.5e-3),
              mim=dict(arch='unet', channels=UNET, crop=32, patch_size=8, bs=8, crops_per_epoch=128, lr=2e-3),
              byol=dict(preset='smoke', channels=UNET, crop=32, bs=8, crops_per_epoch=128),
              simclr=dict(channels=UNET, crop=32, bs=8, crops_per_epoch=128, lr=2e-3))[method]
    fn = dict(mae=pretrain_mae, mim=pretrain_mae, byol=pretrain_byol, simclr=pretrain_simclr)[method]
    t = time.perf_counter(); fn(vols, out=str(out) + '_timing', epochs=1, workers=0, seed=seed, progress=False, restart=True, **kw)
    per_epoch = time.perf_counter() - t
    epochs = max(1, int(budget_s / per_epoch))
    t = time.perf_counter(); fn(vols, out=str(out), epochs=epochs, workers=0, seed=seed, progress=False, **kw)
    return done, epochs, time.perf_counter() - t

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--budget', type=float, default=5, help="pretraining minutes per method and data group")
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2], help="probe seeds (voxel sampling, forest)")
    ap.add_argument('--n', type=int, default=4000, help="voxels per class for each probe")
    ap.add_argument('--methods', nargs='+', default=['mae', 'byol'])
    ap.add_argument('--tasks', nargs='+', default=['gala', 'neuroproof', 'tardis'])
    ap.add_argument('--out', default=str(root/'runs'/'representation'))
    ap.add_argument('--reuse', action='store_true', help="probe the models an earlier run left in --out instead of pretraining again")
    ap.add_argument('--finetune', type=int, default=0, help="also fine-tune a U-Net for this many epochs (32 crops each) on the one labelled training crop of each task, from each U-Net method's pretraining and from scratch, and score Dice on the test crop")
    ap.add_argument('--ft-seeds', type=int, nargs='+', default=[0, 1], help="fine-tuning seeds")
    ap.add_argument('--ft-decoder', action='store_true', help="fine-tuning from a whole pretrained U-Net (mim) starts its decoder too")
    ap.add_argument('--ft-encoder-lr-mult', type=float, default=None, help="the pretrained encoder's learning rate as a fraction of the decoder's (default: the library's)")
    ap.add_argument('--ft-tasks', nargs='+', default=['gala', 'neuroproof'], help="tasks to fine-tune on")
    ap.add_argument('--all-layers', action='store_true', help="probe every layer of each encoder together (a hypercolumn) instead of the default middle and late ones")
    a = ap.parse_args()
    torch.set_num_threads(os.cpu_count())
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    tasks, unlabelled = datasets()
    models, log = {}, {}
    for group in ('em', 'tomo'):
        if not any((t == 'tardis') == (group == 'tomo') for t in a.tasks): continue
        vols = save_vols(unlabelled[group], out/'data'/group)
        for m in a.methods:
            path, ep, secs = pretrain(m, vols, out/f'{m}_{group}', a.budget * 60, 0, a.reuse)
            models[(m, group)] = path; log[f'{m}_{group}'] = dict(epochs=ep, seconds=None if secs != secs else round(secs))
            print(f"pretrained {m} on {group}: {ep} epochs in {secs / 60:.1f} min", flush=True)
    if a.finetune:
        ft = finetune_compare(tasks, models, a, out)
        write_finetune_section(ft, a)
        if a.reuse: return
    results = {}
    for name in a.tasks:
        t, group = tasks[name], 'tomo' if name == 'tardis' else 'em'
        kw = dict(boundary=t.get('boundary', False), classes=t.get('classes'), n_per_class=a.n, progress=False)
        rows = {}
        reps = [probe_report(None, t['train'], t['test'], seeds=a.seeds, **kw)]
        for m in a.methods:
            layers = encoder_layers(load_encoder(models[(m, group)])) if a.all_layers else None
            r = probe_report(models[(m, group)], t['train'], t['test'], seeds=a.seeds, anchor=False, layers=layers, **kw)
            reps.append({'scores': {k.replace('ssl', m).replace('random', f'{m}-random-init'): v for k, v in r['scores'].items()}})
        for r in reps:
            for k, v in r['scores'].items():
                s = next(iter(v.values()))['per_seed']
                rows[k] = np.stack([s['ap'], s['iou'], s['dice']], 1)
        results[name] = {k: np.asarray(v).tolist() for k, v in rows.items()}
        print(name, {k: round(float(np.mean(np.asarray(v)[:, 0])), 3) for k, v in rows.items()}, flush=True)
    env = dict(date=time.strftime('%Y-%m-%d'), machine=f"{platform.machine()}, {os.cpu_count()} cores", torch=torch.__version__,
               layers='all (hypercolumn)' if a.all_layers else 'default (a middle and a late one)',
               python=platform.python_version(), budget_min=a.budget, seeds=a.seeds, n_per_class=a.n, pretraining=log)
    (out/'results.json').write_text(json.dumps(dict(env=env, results=results), indent=1))
    figure(results, root/'nbs'/'images'/'representation.png')
    md = markdown(env, results)
    print(md)
    sys.path.insert(0, str(Path(__file__).parent))
    from results import write_section
    cmd = f"python benchmarks/representation.py --budget {a.budget:g}"
    title = "Frozen features against the random-init floor and the filter-bank anchor" + (" (all layers)" if a.all_layers else "") \
            + ("" if a.methods == ['mae', 'byol'] else f": {', '.join(a.methods)}") + ("" if a.budget == 5 else f", {a.budget:g}-minute budget")
    write_section(title, md.split('\n', 2)[2], cmd + f" --methods {' '.join(a.methods)} --tasks {' '.join(a.tasks)}" + (" --all-layers" if a.all_layers else "")
                  + out_flag(a))

def out_flag(a) -> str:
    "The `--out` of a reproduce line: empty for the default folder."
    if a.out == str(root/'runs'/'representation'): return ""
    return f" --out {Path(a.out).relative_to(root) if Path(a.out).is_relative_to(root) else a.out}"

def finetune_compare(tasks, models, a, out):
    "Dice on each task's test crop of a U-Net fine-tuned on its one training crop: from each U-Net pretraining and from scratch, same epochs."
    from emssl.finetune import finetune_unet
    from emssl.probe import boundary_mask
    res = {}
    for name in a.ft_tasks:
        t, group = tasks[name], 'tomo' if name == 'tardis' else 'em'
        lab = (lambda l: boundary_mask(l)) if t.get('boundary') else (lambda l: (l > 0).astype(np.uint8))
        train = [(img, lab(l)) for img, l in t['train']]
        test = [(img, lab(l)) for img, l in t['test']]
        starts = {'scratch': None, **{m: models[(m, group)] for m in a.methods if m in ('mim', 'byol', 'simclr')}}
        kw = dict(channels=UNET, crop=32, roi_size=32, bs=4, crops_per_epoch=32, lr=2e-3, workers=0, progress=False)
        epochs = a.finetune
        res[name] = {'epochs': epochs, 'minutes': []}
        for start, ck in starts.items():
            dice = []
            for seed in a.ft_seeds:
                o = out/f'ft_{name}_{start}_s{seed}'
                t0 = time.perf_counter()
                finetune_unet(train, out=str(o), checkpoint=None if ck is None else str(ck), valid_pairs=test, epochs=epochs, seed=seed, restart=True,
                              pretrained_decoder=a.ft_decoder, **kw, **({} if a.ft_encoder_lr_mult is None or ck is None else {'encoder_lr_mult': a.ft_encoder_lr_mult}))
                res[name]['minutes'].append((time.perf_counter() - t0) / 60)
                dice.append(float(np.mean([v['dice'] for v in json.loads((o/'metrics.json').read_text()).values()])))
            res[name][start] = dice
            print(f"fine-tune {name} from {start}: Dice {np.mean(dice):.3f} ± {np.std(dice):.3f} ({epochs} epochs)", flush=True)
    (out/'finetune.json').write_text(json.dumps(res, indent=1))
    return res

def write_finetune_section(res, a):
    starts = [k for k in ('scratch', 'mim', 'byol', 'simclr') if all(k in r for r in res.values())]
    mins = np.mean([m for r in res.values() for m in r['minutes']])
    import inspect; from emssl.finetune import finetune_unet
    mult = a.ft_encoder_lr_mult if a.ft_encoder_lr_mult is not None else inspect.signature(finetune_unet).parameters['encoder_lr_mult'].default
    lines = [f"A U-Net (widths {'-'.join(map(str, UNET))}) fine-tuned on the one labelled training crop of each task: {a.finetune} epochs of 32 "
             f"random 32³ crops (half holding foreground), batch 4, AdamW at 2e-3 for the decoder and "
             f"{2e-3 * mult:g} for a pretrained encoder and 2e-3 for a random one, the same for "
             f"every start ({mins:.1f} min a run on average, scoring included). Dice of the thresholded sliding-window prediction on the "
             f"held-out test crop, mean ± sd over seeds {a.ft_seeds}. The encoder starts from the pretraining of the row (the models of the "
             "frozen probes above) or at random" + ("; a U-Net pretraining (mim) also starts the decoder, its output layer new." if a.ft_decoder else "."), '',
             '| start | ' + ' | '.join(f'{t} Dice' for t in res) + ' |', '| --- |' + ' --- |' * len(res)]
    for k in starts:
        lines.append(f'| {k} | ' + ' | '.join(f"{np.mean(r[k]):.3f} ± {np.std(r[k]):.3f}" for r in res.values()) + ' |')
    md = '\n'.join(lines); print(md)
    sys.path.insert(0, str(Path(__file__).parent))
    from results import write_section
    methods = [m for m in a.methods if m in ('mim', 'byol', 'simclr')]
    write_section("Fine-tuning from pretraining against scratch, one labelled crop" + ("" if methods == ['mim', 'byol'] else f": {', '.join(methods)}"), md,
                  f"python benchmarks/representation.py --budget {a.budget:g}{' --reuse' if a.reuse else ''} --finetune {a.finetune} --methods {' '.join(a.methods)}"
                  f" --tasks {' '.join(a.tasks)}" + (" --ft-decoder" if a.ft_decoder else "")
                  + out_flag(a))

def shared_floors(results, rows) -> dict:
    "{random-init row: the random-init rows with the same scores}: methods of one architecture share one floor (the same random-init network)."
    same = lambda k, j: all(np.array_equal(np.asarray(r[k]), np.asarray(r[j])) for r in results.values())
    floors = [k for k in rows if 'random-init' in k]
    return {k: [j for j in floors if same(k, j)] for k in floors}

def figure(results, path):
    "Grouped bars: AP (mean ± sd over seeds) of every feature set on every task, the random-init floors hatched."
    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    rows = [k for k in next(iter(results.values())) if all(k in r for r in results.values())]
    rows = sorted(rows, key=lambda k: (not k.startswith('filters'), k.replace('-random-init', ''), '-random-init' not in k))
    shared = shared_floors(results, rows)
    rows = [k for k in rows if 'random-init' not in k or shared[k][0] == k]   # one bar per shared floor
    fig, ax = plt.subplots(figsize=(1.2 + 1.1 * len(results) * len(rows) / 4, 3.2))
    w = 0.8 / len(rows)
    names = list(dict.fromkeys(k.split('-')[0] if not k.startswith('filters') else k for k in rows))
    colour = {n: plt.cm.tab10(i) for i, n in enumerate(names)}
    for i, k in enumerate(rows):
        ap = [np.asarray(r[k])[:, 0] for r in results.values()]
        floor = 'random-init' in k and len(shared[k]) > 1   # the floor of several methods
        ax.bar(np.arange(len(results)) + i * w, [a.mean() for a in ap], w, yerr=[a.std() for a in ap],
               label='random-init U-Net-linear' if floor else k, hatch='//' if 'random-init' in k else None,
               color='0.6' if floor else colour[k.split('-')[0] if not k.startswith('filters') else k], edgecolor='white')
    ax.set_xticks(np.arange(len(results)) + 0.4 - w / 2, list(results)); ax.set_ylabel('AP, held-out test')
    ax.legend(fontsize=7, ncol=2, frameon=False); ax.set_ylim(0, 1); fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True); fig.savefig(path, dpi=110); plt.close(fig)

def markdown(env, results):
    order = ['filters-linear', 'filters-forest'] + [k for m in ('mae', 'mim', 'byol', 'simclr') for k in (f'{m}-random-init-linear', f'{m}-linear')]
    order = [k for k in order if all(k in r for r in results.values())]
    shared = shared_floors(results, order)
    order = [k for k in order if 'random-init' not in k or shared[k][0] == k]   # a shared floor once, naming its methods
    lines = [f"_Run {env['date']} on {env['machine']}, torch {env['torch']}, Python {env['python']}; reproduce with "
             f"`python benchmarks/representation.py --budget {env['budget_min']:g}`._", '',
             f"Pretraining budget {env['budget_min']:g} min per method and data group on this machine "
             '(' + ', '.join(f"{k}: {v['epochs']} epochs" for k, v in env['pretraining'].items()) + '). '
             f"Probes: {env['n_per_class']} voxels per class, mean ± sd over seeds {env['seeds']}. AP is threshold-free; "
             f"IoU at the most probable class. Encoder layers probed: {env.get('layers', 'default')}.", '',
             '| features + probe | ' + ' | '.join(f'{t} AP | {t} IoU' for t in results) + ' |',
             '| --- |' + ' --- | --- |' * len(results)]
    for k in order:
        if not all(k in r for r in results.values()): continue
        cells = []
        for r in results.values():
            v = np.asarray(r[k]); cells += [f"{v[:, 0].mean():.3f} ± {v[:, 0].std():.3f}", f"{v[:, 1].mean():.3f}"]
        label = k if 'random-init' not in k or len(shared[k]) == 1 else \
            f"random-init U-Net-linear (the floor of {', '.join(j.split('-')[0] for j in shared[k])})"
        lines.append(f'| {label} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)

if __name__ == '__main__': main()
