#!/usr/bin/env bash
# The JAX and Pyro benchmarks on a machine with an NVIDIA GPU; results in benchmarks/results-gpu.md.
# Installs the CUDA builds of JAX and PyTorch into .venv-gpu (not the CPU venv of make test).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv-gpu
.venv-gpu/bin/python -m pip install --quiet --upgrade pip
.venv-gpu/bin/python -m pip install --quiet "jax[cuda12]" torch
.venv-gpu/bin/python -m pip install --quiet ".[pyro,export,test]"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee benchmarks/results-gpu.device.txt
.venv-gpu/bin/python -c "import jax, torch; print('jax:', jax.devices(), '| torch cuda:', torch.cuda.is_available())"
AINATIVE_BENCH_RESULTS=results-gpu.md .venv-gpu/bin/python benchmarks/run.py
