#!/usr/bin/env bash
# The GPU training trip (device tool): three CelebA runs side by side on one GPU, ~7 minutes each.
#   A: the default model and recipe (batch 128)   B: default model, hinge loss + spectral-norm D, batch 256
#   C: a wider generator (512..32), batch 128
# Usage: bash scripts/gpu_celeba.sh DATA_DIR OUT_DIR MINUTES [extra train flags]
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
python3 -m gan.train "${common[@]}" --out runs/A --batch-size 128 > runs_A.log 2>&1 &
python3 -m gan.train "${common[@]}" --out runs/B --batch-size 256 --loss hinge --d-norm spectral > runs_B.log 2>&1 &
python3 -m gan.train "${common[@]}" --out runs/C --batch-size 128 --g-widths 512 256 128 64 32 > runs_C.log 2>&1 &
wait
tail -n 3 runs_A.log runs_B.log runs_C.log
mkdir -p "$out"
snaps() { ls runs/$1/snapshots/*.pt; }
A=($(snaps A)); B=($(snaps B)); C=($(snaps C))
ls runs/*/snapshots
tar cf "$out/A1.tar" "${A[@]:0:3}"; tar cf "$out/A2.tar" "${A[@]:3}"
tar cf "$out/B.tar" "${B[@]: -2}"
tar cf "$out/C1.tar" "${C[@]:1:2}"; tar cf "$out/C2.tar" "${C[@]:3}"
tar czf "$out/logs.tgz" runs/*/samples runs/*/losses.csv runs/*/args.json runs_*.log
ls -la "$out"
