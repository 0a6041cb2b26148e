"""Peak memory of reading one 96³ crop from a Zarr volume of at least 2 GB, through `emssl.io.open_volume`.

Each measurement runs in a fresh process: RSS is read after the imports and `open_volume` (baseline),
then a 96³ crop is read and the process's peak RSS (ru_maxrss) is compared with the baseline. Because
ru_maxrss is the peak over the process's whole life, the figure is an upper bound on the crop's cost.
Also times the same crop read with plain zarr in the same run (the disk's read speed is measured by
`crop_throughput.py`). Appends a section to benchmarks/RESULTS.md.

    python benchmarks/crop_memory.py
"""
import json, os, subprocess, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from big_zarr import big_zarr, du
from results import write_section

CHILD = r'''
import json, resource, sys, time, psutil, numpy as np
from emssl.io import open_volume
p = sys.argv[1]
vol = open_volume(p)
rss0 = psutil.Process().memory_info().rss
rng = np.random.default_rng(int(sys.argv[2]))
start = [int(rng.integers(0, s - 96)) for s in vol.shape]
t = time.perf_counter(); crop = vol.read(start, 96); dt = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps(dict(shape=list(vol.shape), crop=list(crop.shape), mean=float(crop.mean()),
                      rss0=rss0, peak=peak, delta=peak - rss0, seconds=dt)))
'''

def main():
    path = big_zarr()
    size = du(path)
    runs = [json.loads(subprocess.run([sys.executable, '-c', CHILD, str(path), str(i)], capture_output=True,
                                      text=True, check=True).stdout) for i in range(5)]
    worst = max(r['delta'] for r in runs)
    # plain zarr, same crop size, warm process
    import zarr, numpy as np
    z = zarr.open_array(str(path), mode='r')
    t = time.perf_counter(); n = 20
    rng = np.random.default_rng(1)
    for _ in range(n):
        s = [int(rng.integers(0, d - 96)) for d in z.shape]
        z[s[0]:s[0]+96, s[1]:s[1]+96, s[2]:s[2]+96]
    zarr_s = (time.perf_counter() - t) / n
    lines = [f"Volume: {path.name}, shape {tuple(runs[0]['shape'])} uint8, 64³ chunks, uncompressed Zarr v3, "
             f"**{size/1e9:.2f} GB on disk**.",
             "",
             "| run | crop | baseline RSS (MB) | peak RSS (MB) | peak − baseline (MB) | read time (ms) |",
             "| --- | --- | --- | --- | --- | --- |"]
    for i, r in enumerate(runs):
        lines.append(f"| {i} | {'×'.join(map(str, r['crop']))} | {r['rss0']/1e6:.0f} | {r['peak']/1e6:.0f} | "
                     f"{r['delta']/1e6:.1f} | {r['seconds']*1e3:.1f} |")
    lines += ["", f"Worst peak increase over 5 fresh processes: **{worst/1e6:.1f} MB** (limit 200 MB; the whole "
              f"volume would be {size/1e6:.0f} MB). A 96³ crop touches at most 3³ = 27 chunks of 64³ = 7.1 MB.",
              f"Plain `zarr` read of a random 96³ crop in a warm process: {zarr_s*1e3:.1f} ms (for comparison with "
              "the `read time` column, which includes the first-read cost of a fresh process)."]
    write_section('Crop memory: one 96³ crop from a ≥ 2 GB Zarr volume', '\n'.join(lines),
                  'python benchmarks/crop_memory.py')
    print('\n'.join(lines))
    assert worst < 200e6, f"peak memory increase {worst/1e6:.0f} MB >= 200 MB"

if __name__ == '__main__': main()
