#!/usr/bin/env bash
# Lessons 05-08 in full mode, both tracks, all eight at once on one GPU machine (issue 19).
# Each notebook runs as a plain script (benchmarks/gpu_lessons.py run), with its own threads,
# its own log and a time limit; then a summary table of wall times, devices and accuracies.
#
#   COURSE_DATA_DIR=../shared/data KERAS_BACKEND=torch benchmarks/gpu_lessons.sh [OUT_DIR]
#
# Settings (environment):
#   COURSE_DATA_DIR  the data (MNIST raw/, cifar10/*.npz); required
#   KERAS_BACKEND    torch (default here: the machine had no TensorFlow) or tensorflow
#   NB_DIR           folder with keras/ and pytorch/ notebooks (default: notebooks)
#   SRC_DIR          folder that holds course_utils (default: the repository root)
#   WHEELS           optional folder of wheels to install first (keras, IPython, torchinfo...)
#   LIMIT_S          seconds per notebook before it is stopped (default 480)
#   THREADS          CPU threads per notebook (default 2: 8 notebooks on 16 cores)
#   LESSONS          default "05_mnist 06_cifar10 07_generalisation 08_modern_cnns 09_transfer_learning"
#   PACK_LOGS=1      put the logs into one logs.tar.gz (for tools that return few files)
#   DRY_RUN_FAST=1   fast mode (COURSE_FAST=1) instead, to check the script on a small CPU
#   OFFLINE=1        no network there: downloads (ImageNet weights) fail at once instead of hanging
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=${1:-_build/gpu_lessons}
mkdir -p "$out/logs"
out=$(cd "$out" && pwd)
nb_dir=$(cd "${NB_DIR:-$root/notebooks}" && pwd)
src_dir=$(cd "${SRC_DIR:-$root}" && pwd)
limit=${LIMIT_S:-480}
python=${PYTHON:-python3}
: "${COURSE_DATA_DIR:?set COURSE_DATA_DIR to the data folder}"
export COURSE_DATA_DIR=$(cd "$COURSE_DATA_DIR" && pwd)
export KERAS_BACKEND=${KERAS_BACKEND:-torch}
export MPLBACKEND=Agg PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2
export OMP_NUM_THREADS=${THREADS:-2} MKL_NUM_THREADS=${THREADS:-2}
unset NBGRADER_EXECUTION
if [ "${DRY_RUN_FAST:-0}" = 1 ]; then export COURSE_FAST=1; else unset COURSE_FAST; fi  # full mode

if [ "${OFFLINE:-0}" = 1 ]; then  # a proxy that refuses at once
    export http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 \
        HTTPS_PROXY=http://127.0.0.1:9
fi
site=""
if [ -n "${WHEELS:-}" ]; then
    site=$(mktemp -d)/site
    "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target "$site" "$WHEELS"/*.whl || exit 1
fi
export PYTHONPATH=${site:+$site:}$src_dir

"$python" - <<'EOF' | tee "$out/logs/environment.txt"
import platform, torch
print("python", platform.python_version(), "torch", torch.__version__, "cuda", torch.cuda.is_available(),
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU")
import keras
print("keras", keras.__version__, "backend", keras.backend.backend())
EOF
if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv -l 5 \
        > "$out/logs/nvidia-smi.csv" 2>&1 &
    smi=$!
fi

start=$(date +%s)
pids=()
for lesson in ${LESSONS:-05_mnist 06_cifar10 07_generalisation 08_modern_cnns 09_transfer_learning}; do
    for track in pytorch keras; do
        timeout -k 10 "$limit" "$python" "$here/gpu_lessons.py" run "$nb_dir/$track/$lesson.ipynb" \
            > "$out/logs/${track}_$lesson.log" 2>&1 &
        pids+=($!)
    done
done
for pid in "${pids[@]}"; do wait "$pid"; done
echo "all runs ended after $(( $(date +%s) - start )) s (limit $limit s each)" | tee "$out/summary.txt"
[ -n "${smi:-}" ] && kill "$smi" 2>/dev/null
"$python" "$here/gpu_lessons.py" summary "$out/logs" --limit "$limit" | tee -a "$out/summary.txt"
if [ "${PACK_LOGS:-0}" = 1 ]; then
    tar -czf "$out/logs.tar.gz" -C "$out" logs && rm -r "$out/logs"
fi
