"""The results report names the defaults a side-by-side row was measured at when a
preset has changed since (``benchmarks.report.changed_defaults``)."""

import json

from benchmarks.models import MODELS
from benchmarks.report import _label, changed_defaults


def _record(model="gsasrec", protocol="loo", **changes):
    name = model.split(" ")[0]
    estimator = MODELS[name](seed=0, epochs=1000, patience=None, protocol=protocol, max_len=200)
    config = json.loads(json.dumps(estimator.get_params(), default=str))
    config.update(changes)
    return {"model": model, "protocol": protocol, "runs": [{"config": config}], "command": ""}


def test_a_record_at_todays_defaults_is_not_marked():
    assert changed_defaults(_record()) == {}
    assert _label(_record()) == "skseqrec: gsasrec [max_len 200]"


def test_a_changed_preset_default_is_named_with_its_recorded_value():
    record = _record(betas=[0.9, 0.999])
    assert changed_defaults(record) == {"betas": [0.9, 0.999]}
    assert _label(record).endswith("[max_len 200; earlier defaults: betas=[0.9, 0.999]]")


def test_the_commands_own_choices_are_not_defaults():
    record = _record("gsasrec (betas=[0.9, 0.999])", betas=[0.9, 0.999], callbacks=["x"])
    assert changed_defaults(record) == {}
    record = _record(early_stopping_steps=None, early_stopping_patience=10)
    record["command"] = "python -m benchmarks.run --patience 10"
    assert changed_defaults(record) == {}


def test_a_parameter_added_since_counts_at_its_base_default():
    record = _record()
    del record["runs"][0]["config"]["betas"]  # recorded before the parameter existed
    assert changed_defaults(record) == {}  # base default (0.9, 0.98) is today's value


def test_long_change_lists_are_counted_and_peers_are_left_alone():
    record = _record(batch_size=128, dropout_rate=0.2, hidden_units=64, num_blocks=3)
    assert _label(record).endswith("dropout_rate=0.2, hidden_units=64 and 1 more]")
    peer = _record()
    peer["library"] = "rectools"
    assert changed_defaults(peer) == {}


def test_the_plot_legend_only_counts_the_changes():
    record = _record(batch_size=128, dropout_rate=0.2)
    assert _label(record, shown_changes=0) == (
        "skseqrec: gsasrec [max_len 200; earlier defaults (2)]"
    )
