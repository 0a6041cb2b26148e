"""Random 64³ crops per second from a sharded neuroglancer precomputed volume served over HTTP on 127.0.0.1,
against tensorstore's own bulk read of the same store and a plain per-crop read loop (cloud-volume, the
library of the precomputed format's authors, in its own virtual environment; and tensorstore crop by crop),
all in one run; and the memory of the loader over 10,000 crops.

The volume is 512³ uint8 (128 MiB) in 64³ chunks and 64-chunk shards, written from the FlyEM FIB-SEM sample
tiled, served by `emssl.stream.FolderServer` in a process of its own. Every reader has a chunk cache of
32 MiB (a quarter of the volume), so crops are not served from memory after a first pass.

    python benchmarks/stream.py [--cloudvolume /path/to/venv/bin/python] [--crops 10000]

cloud-volume pulls ~70 packages; keep it out of emssl's environment:
    python -m venv /tmp/cvvenv && /tmp/cvvenv/bin/pip install cloud-volume psutil
"""
import argparse, json, os, subprocess, sys, tempfile, textwrap, threading, time
from pathlib import Path
import numpy as np, psutil, torch
sys.path.insert(0, str(Path(__file__).parent))
from results import write_section

CACHE_MB, SIZE, CROP, BS = 32, 512, 64, 16

def make_volume(root: Path) -> Path:
    from emssl.io import load_sample, write_volume
    s = load_sample().numpy()
    reps = [-(-SIZE // n) for n in s.shape]
    vol = np.tile(s, reps)[:SIZE, :SIZE, :SIZE]
    write_volume(root/'em', vol, voxel_size=(8, 8, 8), format='precomputed', chunk_size=(64, 64, 64), sharded=True)
    return root/'em'

def start_server(root: Path):
    code = ("import sys, time; from emssl.stream import FolderServer; s = FolderServer(sys.argv[1]); "
            "print(s.url, flush=True); time.sleep(10**6)")
    p = subprocess.Popen([sys.executable, '-c', code, str(root)], stdout=subprocess.PIPE, text=True)
    return p, p.stdout.readline().strip()

def starts(n, seed=0):
    return np.random.default_rng(seed).integers(0, SIZE - CROP + 1, (n, 3))

def bulk(url):
    import tensorstore as ts
    ctx = ts.Context({'cache_pool': {'total_bytes_limit': CACHE_MB << 20}})
    t = ts.open({'driver': 'neuroglancer_precomputed', 'kvstore': url + 'em/'}, read=True, context=ctx).result()
    t0 = time.perf_counter(); a = t.read().result(); dt = time.perf_counter() - t0
    return a.nbytes / dt / CROP**3, dt

def ts_per_crop(url, n):
    import tensorstore as ts
    ctx = ts.Context({'cache_pool': {'total_bytes_limit': CACHE_MB << 20}})
    t = ts.open({'driver': 'neuroglancer_precomputed', 'kvstore': url + 'em/'}, read=True, context=ctx).result()[..., 0]
    t0 = time.perf_counter()
    for x, y, z in starts(n, 1): t[x:x+CROP, y:y+CROP, z:z+CROP].read().result()
    return n / (time.perf_counter() - t0)

CV_CODE = textwrap.dedent("""
    import sys, time, numpy as np
    from cloudvolume import CloudVolume
    url, n, size, crop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    cv = CloudVolume('precomputed://' + url + 'em', mip=0, cache=False, progress=False, parallel=1, fill_missing=False)
    st = np.random.default_rng(1).integers(0, size - crop + 1, (n, 3))
    cv[0:crop, 0:crop, 0:crop]                     # the info file and first shard index, outside the timing
    t0 = time.perf_counter()
    for x, y, z in st: a = cv[x:x+crop, y:y+crop, z:z+crop]
    print(n / (time.perf_counter() - t0))
""")

def cloudvolume(python, url, n):
    if not python or not Path(python).exists(): return None
    r = subprocess.run([python, '-c', CV_CODE, url, str(n), str(SIZE), str(CROP)], capture_output=True, text=True)
    if r.returncode: print(r.stderr[-2000:]); return None
    ver = subprocess.run([python, '-c', 'import cloudvolume; print(cloudvolume.__version__)'], capture_output=True, text=True).stdout.strip()
    return float(r.stdout.strip().splitlines()[-1]), ver

class RSS:
    "RSS of this process and its children, sampled every 0.2 s."
    def __init__(self): self.samples, self._stop = [], False
    def _run(self):
        me = psutil.Process()
        while not self._stop:
            try: self.samples.append(me.memory_info().rss + sum(c.memory_info().rss for c in me.children(recursive=True)))
            except psutil.Error: pass
            time.sleep(0.2)
    def __enter__(self): self.t = threading.Thread(target=self._run, daemon=True); self.t.start(); return self
    def __exit__(self, *a): self._stop = True; self.t.join()

def emssl_loader(url, n_crops, align, workers=2, reuse=1):
    from emssl.stream import StreamCrops
    from emssl.data import crop_dls
    sc = StreamCrops('precomputed://' + url + 'em', CROP, bs=BS, n=n_crops, align=align, prefetch=2, min_std=0, max_pad=1., reuse=reuse)
    dl = crop_dls(sc, num_workers=workers, device='cpu').train
    it, marks = iter(dl), []
    next(it)                                            # workers started and the first batches in
    t0 = time.perf_counter(); n = 0
    with RSS() as rss:
        for (x,) in it:
            n += len(x)
            if n % (50 * BS) == 0: marks.append((n, rss.samples[-1] if rss.samples else 0))
    dt = time.perf_counter() - t0
    return n / dt, rss.samples, marks

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cloudvolume', default='/tmp/cvvenv/bin/python')
    ap.add_argument('--crops', type=int, default=10_000)
    a = ap.parse_args()
    os.environ['EMSSL_TS_CACHE_MB'] = str(CACHE_MB)            # workers' tensorstore caches
    root = Path(tempfile.mkdtemp())
    make_volume(root)
    files = list((root/'em').rglob('*'))
    srv, url = start_server(root)
    try:
        t = time.time(); bulk_cps, bulk_s = bulk(url); print('bulk', bulk_cps, time.time() - t, flush=True)
        t = time.time(); ts_cps = ts_per_crop(url, 300); print('ts per crop', ts_cps, time.time() - t, flush=True)
        t = time.time(); cv = cloudvolume(a.cloudvolume, url, 200); print('cloud-volume', cv, time.time() - t, flush=True)
        t = time.time(); aligned, _, _ = emssl_loader(url, 2000, align=True); print('aligned', aligned, time.time() - t, flush=True)
        t = time.time(); rand, samples, marks = emssl_loader(url, a.crops, align=False); print('random', rand, time.time() - t, flush=True)
        t = time.time(); reuse = {k: emssl_loader(url, 4000, align=False, reuse=k)[0] for k in (4, 8)}; print('reuse', reuse, time.time() - t, flush=True)
    finally: srv.kill()
    from emssl.stream import chunk_plan
    amp = np.mean([chunk_plan([[s, s + CROP]], (CROP,) * 3, (SIZE,) * 3)['amplification'] for s in starts(1000, 2)])
    from emssl.stream import StreamCrops
    def amp_of(k):   # voxels fetched per voxel used by the batches of `reuse=k` (chunks shared within a batch counted once)
        sc = StreamCrops(np.zeros((SIZE,) * 3, np.uint8), CROP, bs=BS, n=BS * 50, reuse=k, min_std=0, max_pad=1.)
        def batch(j): rng = sc.rng(j); return np.array([s for i in range(0, BS, k) for s in sc.group(rng, sc.vols[0], k)])
        return np.mean([chunk_plan(np.stack([st, st + CROP], 1), (CROP,) * 3, (SIZE,) * 3)['amplification'] for st in map(batch, range(50))])
    amp_reuse = {k: amp_of(k) for k in reuse}
    mib = lambda b: b / 2**20
    first = np.median([m for n, m in marks[:3]]); last = np.median([m for n, m in marks[-3:]])
    rows = [("tensorstore bulk read of the whole volume (one call)", bulk_cps, f"{SIZE**3 / 2**20 / bulk_s:.0f} MiB/s, {bulk_s:.2f} s"),
            ("emssl `StreamCrops`, random positions, 2 workers", rand, f"{a.crops} crops"),
            ("emssl `StreamCrops`, on the chunk grid (`align=True`), 2 workers", aligned, "2,000 crops"),
            *[(f"emssl `StreamCrops`, random positions in groups of {k} per chunk-grid cell (`reuse={k}`), 2 workers", c,
               f"4,000 crops, {amp_reuse[k]:.1f}× voxels fetched per voxel used") for k, c in reuse.items()],
            ("tensorstore, one crop at a time, one process", ts_cps, "300 crops"),]
    if cv: rows.append((f"cloud-volume {cv[1]}, one crop at a time (`parallel=1`)", cv[0], "200 crops"))
    table = "| reader | 64³ crops/s | notes |\n| --- | --- | --- |\n" + "\n".join(f"| {r} | {c:.0f} | {n} |" for r, c, n in rows)
    base = cv[0] if cv else ts_cps
    body = f"""
{SIZE}³ uint8 neuroglancer precomputed, 64³ chunks, sharded ({len(files)} files), served over HTTP on 127.0.0.1 by
`emssl.stream.FolderServer` in its own process; every reader's chunk cache {CACHE_MB} MiB. Bulk-read crops/s is the
bulk read's voxels per second divided by 64³.

{table}

- Random crops: **{rand / bulk_cps:.0%}** of the bulk read's throughput, **{rand / base:.1f}×** the per-crop loop of
  {'cloud-volume' if cv else 'tensorstore'}. Aligned crops: **{aligned / bulk_cps:.0%}** of bulk, {aligned / base:.1f}×. Against tensorstore read
  crop by crop in one process: {rand / ts_cps:.1f}× (random), {aligned / ts_cps:.1f}× (aligned).
- Random crops in groups sharing a chunk-grid cell (`reuse`, each crop still uniform over the volume, the crops of a
  group overlapping): {', '.join(f"**{c / bulk_cps:.0%}** of bulk with `reuse={k}`" for k, c in reuse.items())}.
- The targets: ≥ 50 % of the bulk read is {'met' if aligned >= bulk_cps / 2 else 'not met'} by aligned crops,
  {'met' if rand >= bulk_cps / 2 else 'not met'} by independent random ones, and {', '.join(f"{'met' if c >= bulk_cps / 2 else 'not met'} with `reuse={k}`" for k, c in reuse.items())}; ≥ 3× the per-crop loop of cloud-volume is
  {'met' if cv and rand >= 3 * cv[0] else 'not met'}.
- A random 64³ crop fetches {amp:.1f}× the voxels it uses (the chunks it touches, `chunk_plan`, mean over 1,000
  crops); an aligned crop fetches exactly its own chunk. The cache of {CACHE_MB} MiB cannot hold the volume.
- Memory (this process and its 2 workers, RSS) over {a.crops:,} random crops: {mib(first):.0f} MiB after the first
  {marks[0][0]} crops, {mib(last):.0f} MiB at the end, peak {mib(max(samples)):.0f} MiB.
"""
    print(body)
    write_section("Streaming crops over HTTP: emssl against tensorstore's bulk read and per-crop loops (cpu)", body,
                  "python benchmarks/stream.py")

if __name__ == '__main__': main()
