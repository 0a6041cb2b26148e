"""Are an SAE's latents interpretable? A ViT MAE on synthetic EM with known labels (5 classes), a TopK SAE on its tokens,
each latent named by its best class AP (`emssl.sae.name_latents`).

Reported on held-out volumes (SAE and MAE trained on others): alive latents, the % whose best AP is ≥ 0.5 (the raw rule,
which the background's prevalence passes), the % whose named class (largest lift over chance) has a lift ≥ 0.5,
Coverage@0.3 and Purity@16.

python benchmarks/sae_synthetic.py
"""
import argparse, json, os, sys, time
from pathlib import Path
import numpy as np, torch, tifffile
sys.path.insert(0, str(Path(__file__).parent))
from results import write_section
from emssl.synthetic import synthetic_em, LABELS
from emssl.io import write_volume
from emssl.mae import pretrain_mae
from emssl.sae import extract_activations, train_sae, apply_sae, token_classes, latent_class_ap, name_latents, latent_gallery

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--out', default='runs/sae_synthetic'); p.add_argument('--shape', type=int, default=96)
    p.add_argument('--volumes', type=int, default=6); p.add_argument('--mae-epochs', type=int, default=20)
    p.add_argument('--patch', type=int, default=4); p.add_argument('--layer', default='block3')
    p.add_argument('--k', type=int, default=32); p.add_argument('--expansion', type=int, default=8); p.add_argument('--epochs', type=int, default=20)
    p.add_argument('--no-write', action='store_true')
    a = p.parse_args()
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    vols, labs = [], []
    for s in range(a.volumes):
        img, lab = synthetic_em((a.shape,) * 3, seed=s)
        f = out/f'em_{s}.tif'
        if not f.exists(): write_volume(f, (img * 255).astype(np.uint8))
        vols.append(f); labs.append(lab)
    train, test = list(range(a.volumes - 2)), [a.volumes - 2, a.volumes - 1]
    t0 = time.time()
    pretrain_mae([str(vols[i]) for i in train], out/'mae', arch='tiny', patch_size=a.patch, crop=32, epochs=a.mae_epochs, bs=8,
                 crops_per_epoch=128, progress=False)
    t_mae = time.time() - t0
    stores = [extract_activations(out/'mae'/'mae.pt', str(vols[i]), out/f'acts_{i}.zarr', layer=a.layer, dtype='float32', progress=False)
              for i in range(a.volumes)]
    Xt = np.concatenate([np.asarray(stores[i]['acts'][:]) for i in train])
    t0 = time.time()
    learn = train_sae(Xt, out/'sae', expansion=a.expansion, k=a.k, epochs=a.epochs, bs=512, warmup=200, dead_tokens=len(Xt),
                      precision='fp32', progress=False, restart=True)
    t_sae = time.time() - t0
    sae = learn.model.eval()
    names = {v: k for k, v in LABELS.items()}
    Xv = np.concatenate([np.asarray(stores[i]['acts'][:]) for i in test])
    cls = np.concatenate([token_classes(labs[i], stores[i]['coords'][:], stores[i].attrs['source']['token'], coverage=0.3) for i in test])
    codes = apply_sae(sae, Xv)
    ap = latent_class_ap(codes, cls, sae.n, names=names)
    table, s = name_latents(ap, codes, cls)
    alive = table.frequency > 0
    fg = alive & (table.best_class != 'background')
    prev = {names[c]: float((cls == c).mean()) for c in sorted(names)}
    m = json.loads((out/'sae'/'metrics.json').read_text())
    show = table[fg].sort_values('best_ap', ascending=False).groupby('best_class').head(2).latent.tolist()[:8]
    if show:
        ti = test[0]
        c0 = apply_sae(sae, np.asarray(stores[ti]['acts'][:]))
        latent_gallery(np.asarray(tifffile.imread(vols[ti])), stores[ti]['coords'], c0,
                       stores[ti].attrs['source']['token'], show, n=4, table=table, path=out/'gallery.png')
    lines = [f"{a.volumes} synthetic EM volumes of {a.shape}³ at 8 nm (`synthetic_em`, seeds 0-{a.volumes - 1}; classes background, "
             f"membrane, mitochondria, microtubule, vesicle). ViT MAE 'tiny' with {a.patch}³ patches pretrained on {len(train)} of them "
             f"({a.mae_epochs} epochs of 128 crops of 32³, {t_mae / 60:.1f} min); TopK SAE ({a.expansion} × 192 = {sae.n} latents, k {a.k}, "
             f"{a.epochs} epochs, {t_sae:.0f} s) on its {a.layer} tokens of those volumes ({len(Xt)} tokens); named on the 2 held-out "
             f"volumes ({len(cls)} tokens; a token's class is the non-background label covering ≥ 30 % of it: " + ', '.join(f"{k} {v:.1%}" for k, v in prev.items()) + ").", "",
             "| SAE on held-out tokens | value |", "| --- | --- |",
             f"| NMSE, L0, dead (training run) | {m['nmse']:.4f}, {m['l0']:.1f}, {m['dead_pct']:.1f} % |",
             f"| alive latents | {s['alive']} of {s['latents']} |",
             f"| best AP ≥ 0.5 (the raw rule, which the background's 75 % prevalence passes), % of alive | {s['interpretable_raw_pct']:.1f} % |",
             f"| named class's lift over chance ≥ 0.5, % of alive | **{s['interpretable_pct']:.1f} %** |",
             f"| Coverage@0.3 | {s['coverage_03']:.2f} |", f"| Purity@16 | {s['purity']:.3f} |",
             "| best single-latent AP per class | " + ', '.join(f"{k} {v:.3f}" for k, v in s['best_ap_per_class'].items()) + " |",
             "| latents per named class (largest lift) | " + ', '.join(f"{k} {v}" for k, v in s['latents_per_class'].items()) + " |"]
    body = '\n'.join(lines); print(body, flush=True)
    if not a.no_write: write_section('Sparse autoencoder: interpretable latents on synthetic EM (cpu)', body, 'python benchmarks/sae_synthetic.py ' + ' '.join(sys.argv[1:]))

if __name__ == '__main__': main()
