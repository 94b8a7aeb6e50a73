#!/usr/bin/env bash
# The GPU check: rnncast's CUDA tests, gpu_profile.py, speed.py and peers.py on a
# machine with an NVIDIA GPU, in one command from the repository root (about 6
# minutes on an H200):
#
#   bash benchmarks/gpu_check.sh
#
# It needs python3 with a CUDA build of torch, numpy, pandas, pyarrow, matplotlib,
# rich, safetensors, pytest and pytorch-lightning; no network. The peers' own
# packages can come as wheels in .whl (docs/speed.md, "On a GPU", says which); Ray
# is then replaced by benchmarks/stubs (peers.py never uses it).
# Logs go to $OUT if set, else ./gpu-logs.
set -u
out=${OUT:-gpu-logs}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD/src
if compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
        --upgrade --target /tmp/site .whl/*.whl \
        && export PYTHONPATH=$PYTHONPATH:/tmp/site:$PWD/benchmarks/stubs
fi
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv \
    | tee "$out/gpu.txt"
python3 -c "import torch, pandas, numpy; print('torch', torch.__version__, 'cuda',
torch.version.cuda, 'cudnn', torch.backends.cudnn.version(), 'pandas',
pandas.__version__, 'numpy', numpy.__version__)" | tee -a "$out/gpu.txt"
nproc | tee -a "$out/gpu.txt"

echo "== tests/test_cuda.py"
timeout 150 python3 -m pytest -q -p no:cacheprovider -o addopts="" \
    tests/test_cuda.py 2>&1 | tee "$out/tests.log" | tail -25

echo "== gpu_profile.py"
timeout 150 python3 benchmarks/gpu_profile.py 2>&1 | tee "$out/profile.log"

echo "== speed.py --device cuda"
timeout 200 python3 benchmarks/speed.py --device cuda 2>&1 | tee "$out/speed.log"

echo "== peers.py --device cuda"
timeout 170 python3 benchmarks/peers.py --device cuda --threads "$(nproc)" 2>&1 \
    | tee "$out/peers.log"
