"""emssl's TopK SAE against SAELens' TopK trainer on the same activations, and SAE quality on an MAE trained on real FIB-SEM.

1. A ViT MAE (preset 'tiny': 192 wide, 6 blocks, 8³ patches) is pretrained on two real FIB-SEM cubes (Janelia FlyEM:
   fibsem_iso_262 and the unlabelled neuroproof sample1 of ../shared/realdata), unless its run has finished.
2. Its block-3 tokens over those cubes and the labelled neuroproof sample2 are streamed to an activation store
   (`extract_activations`); the rows are shuffled once (seed 0) and 5 % are held out.
3. emssl's `train_sae` and SAELens' `SAETrainer` with a `TopKTrainingSAE` train on the same rows, same width
   (8 × 192 = 1,536 latents), k 32, batch, steps, learning rate and warm-up; SAELens runs in its own environment
   (`--saelens PYTHON`, a venv with `pip install torch==2.13.0 sae-lens`), one process after the other.
4. Both SAEs are scored by this script on the held-out rows, in the activations' own units: NMSE (‖x̂ − x‖² over
   ‖x − mean‖²), L0, and the latents that never fire on them; each trainer's own dead count is reported too.

python benchmarks/sae.py --saelens /tmp/saelens/bin/python
"""
import argparse, json, os, subprocess, sys, time
from pathlib import Path
import numpy as np, torch
sys.path.insert(0, str(Path(__file__).parent))
from results import write_section
from emssl.mae import pretrain_mae
from emssl.sae import extract_activations, open_activations, train_sae, TopKSAE

REAL = Path(__file__).resolve().parents[2]/'shared'/'realdata'
VOLS = [REAL/'fibsem_iso_262'/'iso_grayscale_262cube.tif', REAL/'fibsem_medulla_neuroproof'/'sample1_raw_unlabelled.tif']
HELD = REAL/'fibsem_medulla_neuroproof'/'sample2_raw.tif'

SAELENS = r'''
import json, sys, time, numpy as np, torch
from sae_lens import TopKTrainingSAEConfig, TopKTrainingSAE
from sae_lens.config import SAETrainerConfig, LoggingConfig
from sae_lens.training.sae_trainer import SAETrainer
a = json.loads(sys.argv[1])
torch.manual_seed(a['seed']); torch.set_num_threads(a['threads'])
X = torch.from_numpy(np.load(a['train']))
cfg = TopKTrainingSAEConfig(d_in=X.shape[1], d_sae=a['latents'], k=a['k'], aux_loss_coefficient=a['aux_coef'], dtype='float32', device='cpu')
sae = TopKTrainingSAE(cfg)
def batches():
    g = torch.Generator().manual_seed(a['seed'])
    while True:
        for idx in torch.randperm(len(X), generator=g).split(a['bs']):
            if len(idx) == a['bs']: yield X[idx]
tcfg = SAETrainerConfig(n_checkpoints=0, checkpoint_path=a['out'], save_final_checkpoint=False, total_training_samples=a['steps'] * a['bs'],
                        device='cpu', autocast=False, lr=a['lr'], lr_end=a['lr'], lr_scheduler_name='constant', lr_warm_up_steps=a['warmup'],
                        adam_beta1=0.9, adam_beta2=0.999, lr_decay_steps=0, n_restart_cycles=1, train_batch_size_samples=a['bs'],
                        dead_feature_window=a['dead_window'], feature_sampling_window=2000,
                        logger=LoggingConfig(log_to_wandb=False))
t0 = time.time()
trainer = SAETrainer(cfg=tcfg, sae=sae, data_provider=batches())
trained = trainer.fit()
secs = time.time() - t0
dead = float(trainer.dead_neurons.float().mean())
Xv = torch.from_numpy(np.load(a['valid']))
with torch.no_grad():
    z = trained.encode(Xv); rec = trained.decode(z)
np.save(a['out'] + '/saelens_rec.npy', rec.numpy()); np.save(a['out'] + '/saelens_active.npy', (z > 0).numpy())
import sae_lens
json.dump(dict(seconds=secs, own_dead=dead, version=sae_lens.__version__), open(a['out'] + '/saelens.json', 'w'))
'''

def score(rec, active, X):
    "(NMSE, L0, % latents never active) of an SAE's reconstructions `rec` and active latents `active` (N, n) of rows X (raw units)."
    nmse = float(((rec - X) ** 2).sum() / ((X - X.mean(0)) ** 2).sum())
    return nmse, float(active.sum(1).mean()), 100. * float((active.sum(0) == 0).mean())

def naming(a, out, sae):
    "emssl's SAE named against real labels: neuron boundaries of neuroproof sample 2 (held out from the MAE) and of gala's test cube."
    import tifffile, h5py
    from emssl.sae import apply_sae, token_classes, latent_class_ap, name_latents
    from emssl.probe import boundary_mask
    from emssl.io import open_volume
    rows = ["Naming emssl's SAE against real labels (`token_classes` with coverage 1/8: a token is 'boundary' when at least an eighth "
            "of its 8³ voxels are, as much as a one-voxel membrane plane across it; `name_latents`: a latent is named by its largest lift "
            "over chance, (AP − prevalence) / (1 − prevalence), and is interpretable when that lift is ≥ 0.5; the raw rule, best AP ≥ 0.5, "
            "counts the majority class (interior) at its prevalence). The structure is the neuron boundary in FIB-SEM, the microtubule in the TARDIS tomograms:", "",
            "| labelled cube | tokens | tokens of the structure | alive latents | best AP ≥ 0.5 (raw rule, % of alive) | lift ≥ 0.5 (% of alive) | latents named the structure | Coverage@0.3 | Purity@16 | best AP: other, structure |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    gala, tardis = REAL/'fibsem_medulla_gala', REAL/'tomo_microtubules_tardis'
    sets = [('neuroproof sample 2 (10 nm)', [(HELD, lambda: boundary_mask(tifffile.imread(HELD.parent/'sample2_bodies.tif')))], ('interior', 'boundary')),
            ('gala test cube', [(gala/'test-image.h5', lambda: boundary_mask(h5py.File(gala/'test-gt.lzf.h5', 'r')['stack'][:]))], ('interior', 'boundary')),
            ('TARDIS tomograms (4 crops; the MAE saw only FIB-SEM)',
             [(t, lambda t=t: tifffile.imread(t.with_name(t.stem + '_mask.tif')) > 0) for t in sorted(tardis.glob('*_25.tif'))], ('background', 'microtubule'))]
    for name, parts, names in sets:
        lat, val, cls = [], [], []
        for vol, lab in parts:
            store = out/f'acts_{Path(vol).stem}_{a.layer}.zarr'
            src = open_volume(vol, dataset='stack') if str(vol).endswith('.h5') else str(vol)
            g = extract_activations(out/'mae'/'mae.pt', src, store, layer=a.layer, dtype='float32', progress=False)
            c = apply_sae(sae, np.asarray(g['acts'][:], np.float32))
            lat.append(c['latents']); val.append(c['values'])
            cls.append(token_classes(lab(), g['coords'][:], g.attrs['source']['token'], coverage=1 / 8))
        codes, cls = {'latents': np.concatenate(lat), 'values': np.concatenate(val)}, np.concatenate(cls)
        ap = latent_class_ap(codes, cls, sae.n, names=dict(enumerate(names)))
        _, s = name_latents(ap, codes, cls)
        b = s['best_ap_per_class']
        rows.append(f"| {name} | {len(cls)} | {int(cls.sum())} ({names[1]}) | {s['alive']} of {s['latents']} | {s['interpretable_raw_pct']:.1f} % | {s['interpretable_pct']:.1f} % | "
                    f"{s['latents_per_class'].get(names[1], 0)} | "
                    f"{s['coverage_03']:.2f} | {s['purity']:.3f} | {b[names[0]]:.3f}, {b[names[1]]:.3f} |")
    return '\n'.join(rows)

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--out', default='runs/sae_bench'); p.add_argument('--saelens', default='/tmp/saelens/bin/python')
    p.add_argument('--mae-epochs', type=int, default=20); p.add_argument('--layer', default='block3')
    p.add_argument('--k', type=int, default=32); p.add_argument('--expansion', type=int, default=8)
    p.add_argument('--bs', type=int, default=1024); p.add_argument('--epochs', type=int, default=10)
    p.add_argument('--lr', type=float, default=4e-4); p.add_argument('--warmup', type=int, default=500)
    p.add_argument('--no-write', action='store_true')
    p.add_argument('--prepare-only', action='store_true', help="stop after the MAE and the activations (a later run reuses both)")
    p.add_argument('--naming-only', action='store_true', help="train (or reuse) the MAE and emssl's SAE, skip SAELens, and write only "
                                                               "the naming of latents against real labels, as its own section")
    a = p.parse_args()
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(os.cpu_count())
    t0 = time.time()
    pretrain_mae([str(v) for v in VOLS], out/'mae', arch='tiny', epochs=a.mae_epochs, crop=32, bs=8, crops_per_epoch=128, progress=False)
    t_mae = time.time() - t0
    parts = []
    for v in VOLS + [HELD]:
        store = out/f'acts_{v.stem}_{a.layer}.zarr'
        g = extract_activations(out/'mae'/'mae.pt', str(v), store, layer=a.layer, dtype='float32', progress=False)
        parts.append(np.asarray(g['acts'][:], np.float32))
    X = np.concatenate(parts)
    perm = np.random.default_rng(0).permutation(len(X)); X = X[perm]
    nv = len(X) // 20
    Xv, Xt = X[:nv], X[nv:]
    np.save(out/'train.npy', Xt)
    if a.prepare_only: print(f"{len(X)} tokens of {X.shape[1]} features; MAE {t_mae / 60:.1f} min"); return
    n_lat = a.expansion * X.shape[1]
    steps = a.epochs * (len(Xt) // a.bs)
    print(f"{len(X)} tokens of {X.shape[1]} features ({len(Xt)} train, {nv} held out); {n_lat} latents, k {a.k}, {steps} steps of {a.bs}", flush=True)
    if a.naming_only:
        learn = train_sae(Xt, out/'emssl_sae', n_latents=n_lat, k=a.k, epochs=a.epochs, bs=a.bs, lr=a.lr, warmup=a.warmup, valid=0.02,
                          dead_tokens=len(Xt), precision='fp32', device='cpu', progress=False)
        body = (f"emssl's SAE ({n_lat} latents, k = {a.k}, trained as in the SAELens comparison above) on block 3 of the ViT MAE "
                f"pretrained on real FIB-SEM; the MAE took {t_mae / 60:.1f} min here (0 if its run had finished).\n\n" + naming(a, out, learn.model.eval()))
        print(body, flush=True)
        if not a.no_write: write_section('Sparse autoencoder: latents named against real labels (cpu)', body, 'python benchmarks/sae.py ' + ' '.join(sys.argv[1:]))
        return
    # emssl
    t0 = time.time()
    learn = train_sae(Xt, out/'emssl_sae', n_latents=n_lat, k=a.k, epochs=a.epochs, bs=a.bs, lr=a.lr, warmup=a.warmup, valid=0.02,
                      dead_tokens=len(Xt), precision='fp32', device='cpu', progress=False, restart=True)
    t_emssl = time.time() - t0
    sae = learn.model.eval()
    i, v = sae.encode(torch.from_numpy(Xv))
    s_emssl = score(sae.decode(i, v).numpy(), (torch.zeros(len(Xv), sae.n).scatter_(1, i, v) > 0).numpy(), Xv)
    np.save(out/'valid.npy', Xv)
    own_emssl = json.loads((out/'emssl_sae'/'metrics.json').read_text())
    # SAELens, in its own environment
    args = dict(train=str(out/'train.npy'), valid=str(out/'valid.npy'), out=str(out), latents=n_lat, k=a.k, bs=a.bs, steps=steps, lr=a.lr, warmup=a.warmup,
                aux_coef=1/32, dead_window=max(1, len(Xt) // a.bs), seed=0, threads=os.cpu_count())
    r = subprocess.run([a.saelens, '-c', SAELENS, json.dumps(args)], capture_output=True, text=True)
    if r.returncode: print(r.stdout[-3000:], r.stderr[-5000:]); raise SystemExit('SAELens failed')
    info = json.loads((out/'saelens.json').read_text())
    s_sl = score(np.load(out/'saelens_rec.npy'), np.load(out/'saelens_active.npy'), Xv)
    own_sl = 'n/a' if info['own_dead'] is None else f"{100 * info['own_dead']:.1f} %"
    lines = [f"Activations: block 3 of 6 of a ViT MAE ('tiny': 192 wide, 8³ patches) pretrained for {a.mae_epochs} epochs of 128 crops "
             f"(32³) on two real FIB-SEM cubes (Janelia FlyEM: fibsem_iso_262, neuroproof sample 1); its tokens over those and the "
             f"neuroproof sample 2 cube: {len(X)} tokens of {X.shape[1]} features, {len(Xt)} for training and {nv} held out. Both SAEs: "
             f"{n_lat} latents (8 ×), k = {a.k}, batch {a.bs}, {steps} steps, Adam at {a.lr:g} after {a.warmup} warm-up steps, "
             f"AuxK at 1/32; CPU, {os.cpu_count()} threads, fp32. Scored here on the held-out tokens in the activations' units.", "",
             "| trainer | NMSE (held out) | L0 | latents never active (held out) | dead by the trainer's own count | training time |",
             "| --- | --- | --- | --- | --- | --- |",
             f"| emssl `train_sae` | **{s_emssl[0]:.4f}** | {s_emssl[1]:.1f} | {s_emssl[2]:.1f} % | {own_emssl['dead_pct']:.1f} % | {t_emssl:.1f} s |",
             f"| SAELens {info['version']} `SAETrainer` + `TopKTrainingSAE` | {s_sl[0]:.4f} | {s_sl[1]:.1f} | {s_sl[2]:.1f} % | "
             f"{own_sl} | {info['seconds']:.1f} s |",
             "", f"Ratios emssl / SAELens: NMSE {s_emssl[0] / s_sl[0]:.3f}, time {t_emssl / info['seconds']:.2f} "
             f"(emssl's time includes its per-epoch validation and checkpoints). The MAE took {t_mae / 60:.1f} min here (0 if its run had finished)."]
    lines += ["", "The latents of this SAE named against real labels: see 'Sparse autoencoder: latents named against real labels' (`--naming-only`)."]
    body = '\n'.join(lines); print(body, flush=True)
    if not a.no_write: write_section('Sparse autoencoder: emssl against SAELens on MAE activations of real FIB-SEM (cpu)', body, 'python benchmarks/sae.py ' + ' '.join(sys.argv[1:]))

if __name__ == '__main__': main()
