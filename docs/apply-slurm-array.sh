#!/bin/bash
# Stylise a folder of images with a Slurm job array: task K of N runs `--shard K/N` (files K, K+N, ... of the
# sorted list). Submit with:  sbatch docs/apply-slurm-array.sh /data/photos /data/stylised
# Re-submitting finishes only what is missing (--skip-existing; outputs are written atomically).
#SBATCH --job-name=neuralstyle-apply
#SBATCH --array=0-15
#SBATCH --cpus-per-task=2
#SBATCH --mem=2G
#SBATCH --time=01:00:00
#SBATCH --output=logs/apply_%A_%a.log
set -euo pipefail
INPUT=${1:?input folder}
OUTPUT=${2:?output folder}
MODEL=${MODEL:-mosaic}
N=${SLURM_ARRAY_TASK_COUNT:-16}
export NEURALSTYLE_HOME=${NEURALSTYLE_HOME:-$HOME/.cache/neuralstyle}   # shared: fetch the model once beforehand
./neuralstyle apply --model "$MODEL" "$INPUT" -o "$OUTPUT" \
  --shard "${SLURM_ARRAY_TASK_ID}/${N}" --skip-existing --threads "${SLURM_CPUS_PER_TASK:-2}" --log "logs/apply_${SLURM_ARRAY_TASK_ID}.jsonl"
