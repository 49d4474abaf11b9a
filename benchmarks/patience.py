"""Replay early stopping with other patience rules on recorded validation curves.

Early stopping does not change training before it stops, so the validation curve a run
recorded (``validation_curve`` in the records of ``benchmarks.defaults`` and
``benchmarks.published``) says exactly where a rule with a shorter patience would have
stopped and which best record it would have kept. The replay feeds the curve through
:class:`skseqrec.training.EarlyStopping` itself (its parameters from the record, only the
varied one changed), so it follows the rule the estimators use. A rule that would stop
later than the run did cannot be replayed (the curve ends there).

Example::

    python -m benchmarks.patience benchmarks/results/published/*.json --rates 0.2 0.3 0.5

For each record and rate: the step it stops at, the step and validation value of the
best record it keeps, and "same" where that is the run's own best (same weights, same test
score as recorded).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from types import SimpleNamespace

from skseqrec.training import EarlyStopping


def replay(curve: dict, monitor: str, **rule) -> tuple[int, int, float]:
    """(stop step, best step, best value) of ``EarlyStopping(monitor, **rule)`` on ``curve``
    (the curve's last step when the rule would not stop within it)."""
    stop = EarlyStopping(monitor, restore_best=False, **rule)
    trainer = SimpleNamespace(step=0, stop_reason=None, validate_every=1)
    stop.on_train_begin(trainer)
    for step, value in zip(curve["step"], curve[monitor]):
        trainer.step = step
        stop.on_epoch_end(trainer, {"epoch": None, monitor: value})
        if trainer.stop_reason:
            return step, stop.best_step, stop.best
    return curve["step"][-1], stop.best_step, stop.best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("records", nargs="+", type=Path)
    parser.add_argument("--rates", nargs="+", type=float, default=[0.2, 0.3, 0.5])
    args = parser.parse_args(argv)
    for path in args.records:
        record = json.loads(path.read_text())
        curve, params = record.get("validation_curve"), record.get("params", {})
        if not curve or not params.get("early_stopping_steps"):
            print(f"{path.name}: no validation curve or no step patience; skipped")
            continue
        monitor = "valid_" + params.get("monitor", "ndcg@10")
        rule = {
            "patience_steps": params["early_stopping_steps"],
            "min_steps": params.get("early_stopping_min_steps", 0),
            "tol": params.get("early_stopping_tol", 0.0),
        }
        _, own_best, _ = replay(curve, monitor, **rule, patience_rate=params["early_stopping_rate"])
        print(
            f"{path.name}: ran to step {record['n_steps']} (best at {own_best}), "
            f"test ndcg@10 {record['metrics']['ndcg@10']:.4f}"
        )
        for rate in args.rates:
            stop, best_step, best = replay(curve, monitor, **rule, patience_rate=rate)
            same = "same" if best_step == own_best else "earlier best"
            print(
                f"  rate {rate:g}: stops at step {stop}, keeps step {best_step} "
                f"({monitor} {best:.4f}, {same})"
            )


if __name__ == "__main__":
    main()
