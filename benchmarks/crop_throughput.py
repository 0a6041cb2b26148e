"""Random 96³ crops per second from a Zarr volume of at least 2 GB, through emssl's sampler and a fastai
DataLoader with 2 worker processes, with the peak memory of the main process and its workers; and, in
the same run, the disk's plain read speed (the volume's chunk files read whole with `os.read`).

Both read paths go through the OS page cache; the script tries to drop it first (root only) and says
whether it could.

    python benchmarks/crop_throughput.py
"""
import os, random, sys, threading, time
from pathlib import Path
import numpy as np, psutil, torch
sys.path.insert(0, str(Path(__file__).parent))
from big_zarr import big_zarr, du
from results import write_section
from emssl.io import open_volume
from emssl.data import RandomCrops, crop_dls

def drop_caches() -> bool:
    try:
        os.sync(); Path('/proc/sys/vm/drop_caches').write_text('3\n'); return True
    except OSError: return False

class PeakRSS:
    "Sample the RSS of this process and its children every 10 ms; `.peak` is the largest sum seen."
    def __init__(self): self.peak, self._stop = 0, False
    def _run(self):
        me = psutil.Process()
        while not self._stop:
            try: rss = me.memory_info().rss + sum(c.memory_info().rss for c in me.children(recursive=True))
            except psutil.Error: continue
            self.peak = max(self.peak, rss); time.sleep(0.01)
    def __enter__(self): self.t = threading.Thread(target=self._run, daemon=True); self.t.start(); return self
    def __exit__(self, *a): self._stop = True; self.t.join()

def disk_read(path, seconds=10.):
    "Plain read speed: whole chunk files in random order with os.read, for about `seconds`."
    files = [f for f in Path(path).rglob('*') if f.is_file() and f.name not in ('zarr.json', '.done')]
    random.Random(0).shuffle(files)
    n, t0 = 0, time.perf_counter()
    for f in files:
        fd = os.open(f, os.O_RDONLY)
        try:
            while True:
                b = os.read(fd, 1 << 22)
                if not b: break
                n += len(b)
        finally: os.close(fd)
        if time.perf_counter() - t0 > seconds: break
    return n / (time.perf_counter() - t0)

def crops_per_s(path, n=400, bs=8, workers=2):
    vol = open_volume(path)
    ds = RandomCrops(vol, 96, n=n, seed=0)
    dls = crop_dls(ds, bs=bs, num_workers=workers, device='cpu')
    base = psutil.Process().memory_info().rss
    with PeakRSS() as pk:
        t0 = time.perf_counter(); k = 0
        for xb, in dls.train: k += len(xb)
        dt = time.perf_counter() - t0
    return k / dt, pk.peak, base

def main():
    path = big_zarr(); size = du(path)
    dropped = drop_caches()
    cps, peak, base = crops_per_s(path)
    dropped2 = drop_caches()
    bw = disk_read(path)
    crop_mb = 96 ** 3 / 1e6
    lines = [f"Volume: {path.name}, {size/1e9:.2f} GB on disk (uncompressed Zarr v3, 64³ chunks). Page cache dropped "
             f"before each measurement: {'yes' if dropped and dropped2 else 'no (not permitted here: both paths read partly from the page cache)'}.",
             "", "| what | rate | MB/s of crop data |", "| --- | --- | --- |",
             f"| emssl `RandomCrops` 96³ uint8 + fastai DataLoader, 2 workers, batch 8 | **{cps:.1f} crops/s** | {cps*crop_mb:.0f} |",
             f"| plain `os.read` of the chunk files (the disk's read speed) | {bw/1e6:.0f} MB/s | - |",
             "", f"Peak memory of the main process and its 2 workers during the crop run: {peak/1e6:.0f} MB "
             f"(main process before the run: {base/1e6:.0f} MB; the volume is {size/1e6:.0f} MB).",
             f"A random 96³ crop touches up to 27 chunks of 64³ (7.1 MB) for 0.88 MB of crop, so the loader moves up to "
             f"{cps*7.1:.0f} MB/s of chunk data against the disk's {bw/1e6:.0f} MB/s."]
    write_section('Crop throughput from a ≥ 2 GB Zarr volume with 2 workers', '\n'.join(lines), 'python benchmarks/crop_throughput.py')
    print('\n'.join(lines))

if __name__ == '__main__': main()
