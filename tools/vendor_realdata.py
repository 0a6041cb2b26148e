"""Copy small real volumes from ../shared/realdata into the repository, compressed, with their licences.

Notebooks, tests and the quick-start must not depend on anything outside the repository, so this
script makes the copies they read (run it again to rebuild them byte for byte):

- `emssl/data/fibsem_sample.tif`: a 128³ crop of the Janelia FlyEM isotropic FIB-SEM volume
  (z 134:262, y 67:195, x 67:195 of `iso_grayscale_262cube.tif`; no padded voxels), shipped in the
  package and read by `emssl.io.load_sample`.
- `realdata/`: the tomogram microtubule crops with masks (TARDIS), the medulla FIB-SEM with neuron
  labels (gala) and the cryo-ET microtubules (cylindra), losslessly recompressed.

Usage: python tools/vendor_realdata.py [SHARED_REALDATA]
"""
import os, shutil, sys
from pathlib import Path
import numpy as np, tifffile

def copy(a, b):
    "Copy a file, replacing a read-only earlier copy."
    b = Path(b)
    if b.is_dir(): b = b/Path(a).name
    if b.exists(): os.chmod(b, 0o644)
    shutil.copyfile(a, b); os.chmod(b, 0o644)

root = Path(__file__).resolve().parents[1]
src = Path(sys.argv[1]) if len(sys.argv) > 1 else root.parent/'shared'/'realdata'

def tif(fin, fout, crop=None, spacing=None):
    with tifffile.TiffFile(fin) as t: a = t.asarray()
    if crop is not None: a = a[crop]
    fout.parent.mkdir(parents=True, exist_ok=True)
    md = {'axes': 'ZYX'}
    if spacing is not None: md.update(spacing=spacing, unit='nm')
    res = (1/spacing, 1/spacing) if spacing is not None else None
    tifffile.imwrite(fout, np.ascontiguousarray(a), imagej=True, metadata=md, resolution=res,
                     compression='zlib', compressionargs={'level': 9})
    return a.shape

# 1. the bundled sample (package data)
pkg = root/'emssl'/'data'
print(tif(src/'fibsem_iso_262'/'iso_grayscale_262cube.tif', pkg/'fibsem_sample.tif',
          crop=np.s_[134:262, 67:195, 67:195]))  # the source records no voxel size
copy(src/'fibsem_iso_262'/'LICENSE.txt', pkg/'LICENSE_fibsem_sample.txt')

# 2. the repository copies for notebooks and tests
rd = root/'realdata'
for f in sorted((src/'tomo_microtubules_tardis').glob('*.tif')):
    tif(f, rd/'tomo_microtubules_tardis'/f.name)
copy(src/'tomo_microtubules_tardis'/'LICENSE', rd/'tomo_microtubules_tardis'/'LICENSE')
for f in ['13pf_MT.tif', '14pf_MT.tif']:
    tif(src/'cryoet_microtubules_cylindra'/f, rd/'cryoet_microtubules_cylindra'/f, spacing=1.052)
for f in ['LICENSE', 'mt_centerlines_nm_zyx.json', '13pf_MT_monomer_coords_xyz_px_cylindra_3d811590.txt']:
    copy(src/'cryoet_microtubules_cylindra'/f, rd/'cryoet_microtubules_cylindra'/f)
import h5py
(rd/'fibsem_medulla_gala').mkdir(parents=True, exist_ok=True)
for f in ['train-image.h5', 'train-gt.lzf.h5', 'test-image.h5', 'test-gt.lzf.h5']:
    with h5py.File(src/'fibsem_medulla_gala'/f) as h: a = h['stack'][:]
    with h5py.File(rd/'fibsem_medulla_gala'/f, 'w') as h:
        h.create_dataset('stack', data=a, compression='gzip', compression_opts=9, chunks=True)
copy(src/'fibsem_medulla_gala'/'LICENSE.txt', rd/'fibsem_medulla_gala'/'LICENSE.txt')
