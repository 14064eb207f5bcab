#!/usr/bin/env bash
# Issue #16 point 4, for a session that has a GPU: the CUDA tests, then `pwb bench --device cuda` on the
# spec case (1024²) and 4096², float32 and float64, written as a committed JSON bundle under reports/.
# Run from the repository root:  bash bench/gpu_check.sh   (about 3-5 minutes on an H200).
# The C program is CPU-only: with NB_C_BIN set (a nanoBragg built -O2 on this machine) each row is
# interleaved with it and carries paired ratios; without it the rows carry GPU times only and the
# ratio is taken against the CPU C medians of the committed CPU bundle (reports/*-bench-cpu-2core-round2).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python}"
if ! "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "gpu_check: torch sees no CUDA device; nothing to do" >&2
    exit 3
fi
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0))"
if ! "$PY" -c "import cli.app" 2>/dev/null; then
    "$PY" -m pip install -q --no-deps --no-build-isolation -e . || export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
PWB=("$PY" -c "from cli.app import main; main()")
echo "== CUDA tests"
timeout 300 "$PY" -m pytest -q -p no:cacheprovider tests/test_cuda.py
echo "== GPU bench (warm in-process, median of 10, peak = torch.cuda.max_memory_allocated)"
C_ARGS=()
if [ -n "${NB_C_BIN:-}" ]; then C_ARGS=(--c-bin "$NB_C_BIN"); fi
timeout 420 "${PWB[@]}" bench --case perf-spec-1024 --case perf-hires-4096 --dtype float32 --dtype float64 \
    --device cuda --repeat 10 --profile 5 "${C_ARGS[@]}" --bundle --slug bench-gpu-round2
echo "== done: commit the new reports/*-bench-gpu-round2 bundle"
