#!/usr/bin/env bash
# Every skseqrec model and every peer on one dataset and protocol, each with the same
# training-time budget, run two single-thread jobs at a time (one per core of the 2-core
# machine the published figures come from), so all jobs share the machine alike.
#
#   bash benchmarks/side_by_side.sh DATASET PROTOCOL BUDGET_SECONDS [PARALLEL_JOBS]
#   bash benchmarks/side_by_side.sh ml-1m-users1-2999 loo 300
#   THREADS=2 bash benchmarks/side_by_side.sh ml-1m-users1-2999 loo 900 1   # one 2-thread job at a time
#
# Our models stop early by their own defaults (at most the budget); the peers train for the budget.
# Records: benchmarks/results/{DATASET}_{PROTOCOL}_{model}_budget{S}.json (skseqrec) and
# peer_{DATASET}_{PROTOCOL}_{peer}_{variant}.json; logs in $LOGS (default /tmp/side_by_side).
# Peers need their venvs: bash benchmarks/peers_env.sh
set -euo pipefail
dataset=$1
protocol=$2
budget=$3
jobs=${4:-2}
threads=${THREADS:-1}
logs=${LOGS:-/tmp/side_by_side}
mkdir -p "$logs"
cd "$(dirname "$0")/.."
{
    for variant in esasrec bert4rec sasrec_softmax; do
        echo "peers --peer rectools --variant $variant --protocol $protocol --dataset $dataset --epochs 1000 --time-budget $budget --threads $threads"
    done
    echo "peers --peer skrec --protocol $protocol --dataset $dataset --epochs 1000 --time-budget $budget --threads $threads"
    for model in esasrec sasrec gsasrec bert4rec hstu seqtransformer popularity; do
        echo "run --dataset $dataset --protocol $protocol --model $model --seeds 0 --epochs 1000 --threads $threads --time-budget $budget --no-refit --tag budget$budget"
    done
} | xargs -P "$jobs" -I{} sh -c 'log="$0/$(echo "{}" | tr -c "a-zA-Z0-9_.-" _ | cut -c1-120).log"; echo "start {}"; OMP_NUM_THREADS=$1 MKL_NUM_THREADS=$1 python -m benchmarks.{} > "$log" 2>&1 && echo "done  {}" || echo "FAILED {} (see $log)"' "$logs" "$threads"
