"""Make (once) a Zarr v3 volume of at least 2 GB on disk for the I/O benchmarks.

The volume is (1280, 1280, 1280) uint8 in 64³ chunks, stored without compression so that its size on
disk is its size in memory (2.1 GB): tiles of the real FIB-SEM sample with noise, so crops look like EM.
Default location: $EMSSL_BENCH_DIR or /tmp/emssl_bench.
"""
import os, sys, time
from pathlib import Path
import numpy as np, zarr

SHAPE, CHUNK = (1280, 1280, 1280), (64, 64, 64)

def bench_dir() -> Path:
    d = Path(os.environ.get('EMSSL_BENCH_DIR', '/tmp/emssl_bench')); d.mkdir(parents=True, exist_ok=True); return d

def du(path) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob('*') if f.is_file())

def big_zarr(path=None) -> Path:
    path = Path(path or bench_dir()/'big_v3.zarr')
    if (path/'.done').exists(): return path
    import tifffile
    tile = tifffile.imread(Path(__file__).resolve().parents[1]/'emssl'/'data'/'fibsem_sample.tif')  # 128³
    z = zarr.create_array(str(path), shape=SHAPE, chunks=CHUNK, dtype='uint8', compressors=None, overwrite=True)
    rng = np.random.default_rng(0)
    t = time.time()
    for i in range(0, SHAPE[0], 128):   # one z slab of 128 at a time: ~210 MB in memory
        slab = np.tile(tile, (1, SHAPE[1]//128, SHAPE[2]//128))
        slab = np.clip(slab.astype(np.int16) + rng.integers(-8, 9, slab.shape, dtype=np.int16), 0, 255).astype(np.uint8)
        z[i:i+128] = slab
    (path/'.done').write_text('ok')
    print(f"wrote {path}: {du(path)/1e9:.2f} GB in {time.time()-t:.0f} s", file=sys.stderr)
    return path

if __name__ == '__main__': print(big_zarr())
