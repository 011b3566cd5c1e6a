#!/usr/bin/env bash
# The GPU training trip (device tool): three CelebA runs side by side on one GPU, ~7 minutes each.
# Trip 1 (session 1; shipped: checkpoints/cspup64, cspup64-wide) ran the then-default 384..24 model (A),
# hinge + spectral-norm D (B) and widths 512..32 (C). Trip 2 (session 4, this script) trained the lean
# designs that meet the CPU targets of issue #3: A = 1024..16 at bottleneck 0.25, now the default
# (checkpoints/cspup64-lean), B = 512 192 64 32 16 at 0.25, C = A's design at batch 64 (bench/README.md).
# Usage: bash scripts/gpu_celeba.sh DATA_DIR OUT_DIR MINUTES [extra train flags]
# DATA_DIR: e.g. /tmp/celeba64, unpacked on the GPU machine from a tar.gz of `python -m gan.data pack` output;
# tracked files count towards the 64 MiB a device call carries: see bench/README.md for the quality that fits.
set -u
data=$1 out=$2 minutes=$3; shift 3
export GAN_CACHE=/tmp/gan_cache PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null
python3 -c "import torch, torchvision; print('torch', torch.__version__, 'tv', torchvision.__version__, 'cuda', torch.cuda.is_available())"
python3 - "$data" <<'PY'   # decode once, so the three runs share the cache
import sys; from gan.data import load_dataset; load_dataset(sys.argv[1], 64)
PY
python3 -m gan.train --data "$data" --out /tmp/smoke --max-steps 30 --log-every 10 --snapshots 1.0 || exit 1
common=(--data "$data" --max-minutes "$minutes" --log-every 200 --checkpoint-minutes 3 "$@")
lean=(--g-widths 1024 128 64 32 16 --bottleneck 0.25)
logs="$out/logs"  # under the output folder: a trip cut short still brings its logs back
mkdir -p "$logs"
python3 -m gan.train "${common[@]}" --out runs/A --batch-size 128 "${lean[@]}" > "$logs/A.log" 2>&1 &
python3 -m gan.train "${common[@]}" --out runs/B --batch-size 128 --g-widths 512 192 64 32 16 --bottleneck 0.25 > "$logs/B.log" 2>&1 &
python3 -m gan.train "${common[@]}" --out runs/C --batch-size 64 "${lean[@]}" > "$logs/C.log" 2>&1 &
wait
tail -n 3 "$logs"/*.log
snaps() { ls runs/$1/snapshots/*.pt; }
A=($(snaps A)); B=($(snaps B)); C=($(snaps C))
ls runs/*/snapshots
# at most 8 files of at most 16 MiB come back: two 6.7 MB lean snapshots per tar
tar cf "$out/A1.tar" "${A[@]:0:2}"; tar cf "$out/A2.tar" "${A[@]:2:2}"; tar cf "$out/A3.tar" "${A[@]:4}"
tar cf "$out/B.tar" "${B[@]: -2}"
tar cf "$out/C.tar" "${C[@]: -2}"
tar czf "$out/logs.tgz" runs/*/samples runs/*/losses.csv runs/*/args.json -C "$out" logs && rm -r "$logs"  # 6 files in all
ls -la "$out"
