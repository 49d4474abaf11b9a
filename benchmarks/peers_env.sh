#!/usr/bin/env bash
# Create one virtual environment per peer library (their pins conflict with ours and with
# each other): .venv-rectools and .venv-skrec beside the repository root. CPU torch first.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
make_env() {
  local name=$1; shift
  local env="$root/.venv-$name"
  [ -x "$env/bin/python" ] || python -m venv "$env"
  "$env/bin/pip" install -q --upgrade pip
  "$env/bin/pip" install -q torch==2.13.0
  "$env/bin/pip" install -q "$@"
  "$env/bin/python" -c "import torch; print('$name ready, torch', torch.__version__)"
}
make_env rectools "rectools[torch]" scikit-learn
make_env skrec "scikit-rec[torch]"
