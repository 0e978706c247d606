#!/usr/bin/env bash
# Official PReNet outputs for the measures calibration (prenet_outputs/*.png).
# Runs the authors' test_PReNet.py, outside this repo, with the official Rain100H checkpoint.
# Two edits make it run on a CPU-only machine with current libraries (they do not touch the
# network or the saving code): utils.py imports compare_psnr from a scikit-image module that no
# longer exists (unused by the test script), and torch.load needs map_location='cpu'.
# test_PReNet.py's --use_GPU is type=bool, so only an empty string turns it off.
set -euo pipefail
SHARED=${1:-../shared}            # data/ and weights/ as in CI
WORK=${2:-/tmp/official-prenet}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$WORK" && git -C /work/.mirror/csdwren+PReNet/repo archive HEAD test_PReNet.py networks.py utils.py | tar -x -C "$WORK"
cd "$WORK"
sed -i 's/^from skimage.measure.simple_metrics import compare_psnr/compare_psnr = None/' utils.py
sed -i "s/torch.load(os.path.join(opt.logdir, 'net_latest.pth'))/torch.load(os.path.join(opt.logdir, 'net_latest.pth'), map_location='cpu')/" test_PReNet.py
mkdir -p logs/PReNet6 in out
ln -sf "$SHARED/weights/prenet/Rain100H/PReNet6.pth" logs/PReNet6/net_latest.pth
for i in 1 13 50 100; do ln -sf "$SHARED/data/rain100h/rain/norain-$i.png" in/; done
python test_PReNet.py --logdir logs/PReNet6 --data_path in --save_path out --use_GPU ""
# The script saves np.uint8(255*out) via cv2 (truncation). Re-encode losslessly (PNG optimise)
# only to keep the repo small; pixels are asserted identical.
python - "$WORK/out" "$HERE/prenet_outputs" <<'PY'
import sys, pathlib, numpy as np
from PIL import Image
src, dst = map(pathlib.Path, sys.argv[1:])
dst.mkdir(exist_ok=True)
for p in sorted(src.glob("*.png")):
    a = np.asarray(Image.open(p))
    Image.fromarray(a).save(dst / p.name, optimize=True, compress_level=9)
    assert (np.asarray(Image.open(dst / p.name)) == a).all()
PY
