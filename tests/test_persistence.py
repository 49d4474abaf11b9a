"""skseqrec.save / skseqrec.load: exact round trips, and files that must be refused unrun."""

from __future__ import annotations

import json
import pickle
import warnings
import zipfile

import joblib
import numpy as np
import pandas as pd
import pytest
import safetensors.torch
import torch
from safetensors import safe_open
from sklearn.base import BaseEstimator, clone

import skseqrec
from skseqrec import (
    MLPRankerEstimator,
    PopularityRecommender,
    SASRecClassifierEstimator,
    TwoStageRecommender,
    load,
    save,
)
from skseqrec.datasets import make_sequential_world
from skseqrec.estimators import BaseRecommender
from skseqrec.exceptions import (
    DataDropWarning,
    DeviceWarning,
    ModelFormatError,
    VersionMismatchWarning,
)
from skseqrec.persistence import FORMAT_VERSION, _estimator_classes

PUBLIC_ESTIMATORS = sorted(
    (
        getattr(skseqrec, name)
        for name in skseqrec.__all__
        if isinstance(getattr(skseqrec, name), type)
        and issubclass(getattr(skseqrec, name), BaseRecommender)
    ),
    key=lambda cls: cls.__name__,
)
#: small settings, applied where the estimator has the parameter
SMALL = {
    "hidden_units": 16,
    "num_heads": 2,
    "max_len": 8,
    "epochs": 2,
    "num_negatives": 4,
    "batch_size": 4,
    "device": "cpu",
}


def small(cls, **params):
    if cls is TwoStageRecommender:  # fast stages
        return TwoStageRecommender(
            retriever=SASRecClassifierEstimator(
                hidden_units=8, num_blocks=1, max_len=8, epochs=1, batch_size=8, device="cpu"
            ),
            ranker=MLPRankerEstimator(hidden_layer_sizes=(8,), epochs=1, device="cpu"),
            n_candidates=5,
            **params,
        )
    names = cls().get_params()
    return cls(**{k: v for k, v in {**SMALL, **params}.items() if k in names})


def fit_small(cls, X, **params):
    """Fit with small settings; regressors get ratings as ``y``."""
    y = None
    if getattr(cls, "_requires_y", False):
        y = np.random.default_rng(0).integers(1, 6, len(X)).astype(float)
    return small(cls, **params).fit(X, y)


def read(path):
    with safe_open(path, framework="pt") as file:
        document = json.loads(file.metadata()["skseqrec"])
        tensors = {key: file.get_tensor(key) for key in file.keys()}
    return document, tensors


def rewrite(source, target, document=None, tensors=None):
    """Copy a saved model, letting ``document``/``tensors`` edit it in place on the way."""
    doc, weights = read(source)
    if document is not None:
        document(doc)
    if tensors is not None:
        tensors(weights)
    safetensors.torch.save_file(weights, target, metadata={"skseqrec": json.dumps(doc)})
    return target


def assert_same_params(a, b):
    """Equal parameters; estimators compared by their own parameters, frames by content."""
    assert type(a) is type(b)
    params_a, params_b = a.get_params(deep=False), b.get_params(deep=False)
    assert params_a.keys() == params_b.keys()
    for name, value in params_b.items():
        if isinstance(value, BaseEstimator):
            assert repr(params_a[name]) == repr(value), name
            assert_same_params(params_a[name], value)
        elif isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(params_a[name], value, check_index_type=False)
        else:
            assert params_a[name] == value, name


def assert_same_dtype(a, b):
    assert type(a) is type(b) and a == b and str(a) == str(b)
    if isinstance(a, pd.CategoricalDtype):
        pd.testing.assert_index_equal(a.categories, b.categories, exact=True)
        assert a.ordered == b.ordered


def assert_same_recommendations(a, b, X, top_k=5):
    pd.testing.assert_frame_equal(a.recommend(X, top_k=top_k), b.recommend(X, top_k=top_k))


# ------------------------------------------------------------------ round trips
@pytest.fixture(scope="module")
def sasrec(tiny):
    return small(SASRecClassifierEstimator).fit(tiny)


@pytest.fixture(scope="module")
def sasrec_file(sasrec, tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "sasrec.safetensors"
    save(sasrec, path)
    return path


def test_every_public_estimator_is_in_the_allowlist():
    assert set(_estimator_classes()) == {cls.__name__ for cls in PUBLIC_ESTIMATORS} | {
        "TransformerRecommender",
        "MLPRankerEstimator",  # the ranker of TwoStageRecommender
    }
    assert {"SASRecClassifierEstimator", "PopularityRecommender"} <= set(_estimator_classes())


@pytest.mark.parametrize("cls", PUBLIC_ESTIMATORS, ids=lambda cls: cls.__name__)
def test_round_trip_keeps_recommendations_and_state(cls, tiny, tmp_path):
    fitted = fit_small(cls, tiny)
    before = fitted.recommend(tiny, top_k=5)
    save(fitted, tmp_path / "model.safetensors")
    loaded = load(tmp_path / "model.safetensors")

    assert type(loaded) is cls
    assert_same_params(loaded, fitted)
    pd.testing.assert_frame_equal(loaded.recommend(tiny, top_k=5), before)
    pd.testing.assert_frame_equal(fitted.recommend(tiny, top_k=5), before)  # save left it alone
    np.testing.assert_array_equal(loaded.predict(tiny), fitted.predict(tiny))
    np.testing.assert_array_equal(loaded.classes_, fitted.classes_)
    assert loaded.classes_.dtype == fitted.classes_.dtype
    assert_same_dtype(loaded.item_encoder_.dtype, fitted.item_encoder_.dtype)
    np.testing.assert_array_equal(loaded.item_counts_, fitted.item_counts_)
    assert loaded.item_counts_.dtype == fitted.item_counts_.dtype
    for name in ["n_users_seen_", "n_dropped_users_", "n_epochs_", "best_epoch_", "stop_reason_"]:
        assert getattr(loaded, name, None) == getattr(fitted, name, None), name
    if hasattr(fitted, "module_"):
        assert loaded.device_ == "cpu"
        pd.testing.assert_frame_equal(loaded.history_, fitted.history_)
        np.testing.assert_array_equal(loaded._user_encoder.classes, fitted._user_encoder.classes)
        assert not loaded.module_.training
        for key, value in fitted.module_.state_dict().items():
            assert torch.equal(loaded.module_.state_dict()[key], value), key


def test_str_and_path_write_the_same_bytes(sasrec, tmp_path):
    save(sasrec, tmp_path / "a.safetensors")
    save(sasrec, str(tmp_path / "b.safetensors"))
    assert (tmp_path / "a.safetensors").read_bytes() == (tmp_path / "b.safetensors").read_bytes()


def test_file_holds_weights_and_a_json_document(sasrec_file, sasrec):
    document, tensors = read(sasrec_file)
    assert document["format"] == "skseqrec-model"
    assert document["format_version"] == FORMAT_VERSION
    assert document["skseqrec_version"] == skseqrec.__version__
    assert document["estimator"] == "SASRecClassifierEstimator"
    assert document["params"]["hidden_units"] == {"kind": "json", "value": 16}
    module_keys = {k.removeprefix("module.") for k in tensors if k.startswith("module.")}
    assert module_keys == set(sasrec.module_.state_dict())
    # the file is about as large as the weights, not a copy of the training data
    n_bytes = sum(t.numel() * t.element_size() for t in sasrec.module_.state_dict().values())
    assert sasrec_file.stat().st_size < n_bytes + 20_000


def test_unfitted_estimator_round_trips(tmp_path):
    est = SASRecClassifierEstimator(hidden_units=32, random_state=np.random.RandomState(3))
    save(est, tmp_path / "unfitted.safetensors")
    loaded = load(tmp_path / "unfitted.safetensors")
    assert not loaded.__sklearn_is_fitted__()
    params = loaded.get_params()
    assert params.pop("hidden_units") == 32
    random_state = params.pop("random_state")
    expected = est.get_params()
    expected.pop("hidden_units")
    assert isinstance(random_state, np.random.RandomState)
    assert random_state.randint(1 << 30) == expected.pop("random_state").randint(1 << 30)
    assert params == expected


def test_numpy_scalar_and_torch_device_params_round_trip(tiny, tmp_path):
    est = small(SASRecClassifierEstimator, hidden_units=np.int64(8), device=torch.device("cpu"))
    save(est.fit(tiny), tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors")
    assert type(loaded.hidden_units) is np.int64 and loaded.hidden_units == 8
    assert loaded.device == torch.device("cpu")
    clone(loaded)  # still a valid sklearn estimator


def test_warm_start_continues_after_load(sasrec, sasrec_file, tiny):
    loaded = load(sasrec_file)
    loaded.set_params(warm_start=True, epochs=1).fit(tiny)
    assert loaded.n_epochs_ == sasrec.n_epochs_ + 1
    assert loaded.history_["epoch"].tolist() == [*sasrec.history_["epoch"], 3]


def _as(dtype):
    return lambda s: s.astype(dtype)


ID_DTYPES = {
    "int64": _as("int64"),
    "int32": _as("int32"),
    "uint64-large": lambda s: s.astype("uint64") + np.uint64(2**63),
    "float64": _as("float64"),
    "object-str": lambda s: pd.Series(["id" + str(v) for v in s], dtype=object),
    "object-int": lambda s: pd.Series([int(v) for v in s], dtype=object),
    "str": lambda s: ("id" + s.astype(str)).astype("str"),
    "string[NA]": lambda s: ("id" + s.astype(str)).astype(pd.StringDtype("python")),
    "unicode": lambda s: ("é-🎬-" + s.astype(str)).astype(object),
    "Int64": _as("Int64"),
    "category-str": lambda s: ("id" + s.astype(str)).astype("category"),
    "category-int-ordered": lambda s: s.astype(
        pd.CategoricalDtype(sorted(set(s)) + [999], ordered=True)
    ),
    "category-object": lambda s: pd.Series(
        pd.Categorical(
            ["c" + str(v) for v in s],
            categories=pd.Index(["c" + str(v) for v in sorted(set(s))] + ["unused"], dtype=object),
        )
    ),
}


@pytest.mark.parametrize("kind", list(ID_DTYPES))
def test_id_dtypes_round_trip_exactly(kind, world, tmp_path):
    X = world[world["user_id"] < 30].reset_index(drop=True)
    X = X.assign(item_id=ID_DTYPES[kind](X["item_id"]), user_id=ID_DTYPES[kind](X["user_id"]))
    fitted = PopularityRecommender().fit(X)
    save(fitted, tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors")
    assert_same_dtype(loaded.item_encoder_.dtype, fitted.item_encoder_.dtype)
    assert loaded.classes_.dtype == fitted.classes_.dtype
    np.testing.assert_array_equal(loaded.classes_, fitted.classes_)
    assert [type(v) for v in loaded.classes_] == [type(v) for v in fitted.classes_]
    recommended = loaded.recommend(X, top_k=3)
    pd.testing.assert_frame_equal(recommended, fitted.recommend(X, top_k=3))
    assert recommended["item_id"].dtype == X["item_id"].dtype


def test_categorical_ids_of_a_transformer_round_trip(tiny, tmp_path):
    X = tiny.assign(
        user_id=tiny["user_id"].astype("category"),
        item_id=tiny["item_id"].astype(pd.CategoricalDtype(sorted(set(tiny["item_id"])))),
    )
    fitted = small(SASRecClassifierEstimator).fit(X)
    save(fitted, tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors")
    assert_same_dtype(loaded._user_encoder.dtype, fitted._user_encoder.dtype)
    assert_same_dtype(loaded.item_encoder_.dtype, fitted.item_encoder_.dtype)
    assert_same_recommendations(loaded, fitted, X)


# ------------------------------------------------ two-stage models: nested estimators, frames
N_META_ITEMS = 18  # the interactions have items 0..14: 15, 16, 17 are cold (metadata only)


def two_stage_world(str_ids=False):
    """Interactions over 15 items, metadata over 18 (a str column with a missing value)."""
    X = make_sequential_world(n_users=40, n_items=15, random_state=0)
    items = pd.DataFrame(
        {
            "item_id": np.arange(N_META_ITEMS),
            "genres": [None if i == 4 else f"g{i % 3}|t{i % 2}" for i in range(N_META_ITEMS)],
            "year": np.linspace(1980.0, 2000.0, N_META_ITEMS),
        }
    )
    if str_ids:
        X = X.assign(item_id="i" + X["item_id"].astype(str))
        items = items.assign(item_id="i" + items["item_id"].astype(str))
    return X, items


def fit_quietly(model, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataDropWarning)  # cold items are announced
        return model.fit(X)


@pytest.fixture(scope="module")
def fitted_two_stage(tmp_path_factory):
    """``case -> (fitted model, X, saved file)``, each case fitted once."""
    cache = {}

    def get(case):
        if case not in cache:
            X, items = two_stage_world(str_ids=case.startswith("str"))
            features = items if case.endswith("features") else None
            model = fit_quietly(small(TwoStageRecommender, item_features=features), X)
            path = tmp_path_factory.mktemp("two_stage") / f"{case}.safetensors"
            save(model, path)
            cache[case] = model, X, path
        return cache[case]

    return get


@pytest.fixture(scope="module", params=["int-ids", "int-ids-features", "str-ids-features"])
def two_stage(request, fitted_two_stage):
    return fitted_two_stage(request.param)


@pytest.fixture(scope="module")
def two_stage_file(fitted_two_stage):
    return fitted_two_stage("int-ids-features")[2]


def test_two_stage_round_trip_keeps_recommendations_and_stages(two_stage):
    fitted, X, path = two_stage
    loaded = load(path)

    assert type(loaded) is TwoStageRecommender
    assert_same_params(loaded, fitted)
    pd.testing.assert_frame_equal(
        loaded.recommend(X, top_k=8, exclude_seen=False),
        fitted.recommend(X, top_k=8, exclude_seen=False),
    )
    np.testing.assert_array_equal(loaded.predict(X), fitted.predict(X))
    np.testing.assert_array_equal(loaded.classes_, fitted.classes_)
    np.testing.assert_array_equal(loaded.cold_items_, fitted.cold_items_)
    assert loaded.cold_items_.dtype == fitted.cold_items_.dtype
    for name in ["_to_retriever", "_from_retriever", "item_counts_"]:
        np.testing.assert_array_equal(getattr(loaded, name), getattr(fitted, name))
    assert loaded.n_ranker_lists_ == fitted.n_ranker_lists_
    for stage in ["retriever_", "ranker_"]:
        before, after = getattr(fitted, stage), getattr(loaded, stage)
        assert type(after) is type(before)
        assert_same_params(after, before)
        assert after.device_ == "cpu" and not after.module_.training
        pd.testing.assert_frame_equal(after.history_, before.history_)
        state = after.module_.state_dict()
        for key, value in before.module_.state_dict().items():
            assert torch.equal(state[key], value), (stage, key)
    if fitted.item_features is None:
        assert loaded.item_features_ is None and len(loaded.cold_items_) == 0
    else:
        assert len(fitted.cold_items_) == N_META_ITEMS - 15
        assert loaded.item_features_.to_dict() == fitted.item_features_.to_dict()
        # cold items are served, ranked from their metadata alone, as before saving
        cold = loaded.recommend(X, top_k=3, items=fitted.cold_items_)
        assert set(cold["item_id"]) == set(fitted.cold_items_)
        pd.testing.assert_frame_equal(cold, fitted.recommend(X, top_k=3, items=fitted.cold_items_))


def test_two_stage_document_nests_the_stages(two_stage_file):
    document, tensors = read(two_stage_file)
    retriever = document["attributes"]["retriever_"]
    assert retriever["kind"] == "estimator"
    assert retriever["estimator"] == "SASRecClassifierEstimator"
    assert retriever["attributes"]["_module_state"] == {"kind": "module_state"}
    ranker = document["attributes"]["ranker_"]
    assert ranker["estimator"] == "MLPRankerEstimator"
    assert ranker["params"]["hidden_layer_sizes"] == {"kind": "tuple", "value": [8]}
    assert ranker["attributes"]["_module_init"]["kind"] == "json"
    assert document["params"]["ranker"]["kind"] == "estimator"
    assert document["params"]["item_features"]["kind"] == "frame"
    assert document["attributes"]["item_features_"]["kind"] == "item_features"
    assert any(k.startswith("attributes.retriever_.module.") for k in tensors)
    assert any(k.startswith("attributes.ranker_.module.") for k in tensors)
    assert not any(k.startswith("module.") for k in tensors)  # the top level has no module


def test_ranker_round_trips_on_its_own(fitted_two_stage, tmp_path):
    model, X, _ = fitted_two_stage("int-ids-features")
    save(model.ranker_, tmp_path / "ranker.safetensors")
    ranker = load(tmp_path / "ranker.safetensors")
    assert type(ranker) is MLPRankerEstimator and ranker.device_ == "cpu"
    _, _, histories = model.encode_history(X)
    lists = model.candidate_lists(histories)
    np.testing.assert_array_equal(
        ranker.decision_function(lists), model.ranker_.decision_function(lists)
    )


def test_unfitted_two_stage_round_trips(tmp_path):
    _, items = two_stage_world()
    est = small(TwoStageRecommender, item_features=items, feature_types={"genres": "multilabel"})
    save(est, tmp_path / "unfitted.safetensors")
    loaded = load(tmp_path / "unfitted.safetensors")
    assert not loaded.__sklearn_is_fitted__()
    assert_same_params(loaded, est)
    assert loaded.get_params()["ranker__hidden_layer_sizes"] == (8,)
    clone(loaded)  # still a valid sklearn estimator


def test_frames_round_trip_column_by_column(tmp_path):
    frame = pd.DataFrame(
        {
            "int32": np.arange(4, dtype=np.int32),
            "uint8": np.arange(4, dtype=np.uint8),
            "bool": [True, False, True, True],
            "float": [0.5, np.nan, -1.0, 2.0],
            "object": pd.Series(["a", None, np.nan, "é-🎬"], dtype=object),
            "object-NA": pd.Series(["x", pd.NA, "y", "z"], dtype=object),
            "string[NA]": pd.array(["a", None, "b", ""], dtype=pd.StringDtype("python")),
            "str": pd.Series(["p", None, "q", "r"], dtype="str"),
            "category": pd.Categorical(["b", "a", None, "b"], categories=["b", "a", "unused"]),
            "category-int": pd.Categorical([3, 1, 3, 1], ordered=True),
            "Int64": pd.array([1, None, 3, 4], dtype="Int64"),
            "Float32": pd.array([1.5, None, 3.0, 4.0], dtype="Float32"),
            "boolean": pd.array([True, None, False, True], dtype="boolean"),
            7: [1.0, 2.0, 3.0, 4.0],  # int column names survive too
        }
    )
    frame.index = pd.Index([10, 3, 7, 5], name="row")
    est = TwoStageRecommender(item_features=frame)
    save(est, tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors").item_features
    pd.testing.assert_frame_equal(loaded, frame)
    # which missing value each row held, too
    assert loaded["object"].iloc[1] is None and np.isnan(loaded["object"].iloc[2])
    assert loaded["object-NA"].iloc[1] is pd.NA

    ranged = pd.DataFrame({"a": [1, 2]}, index=pd.RangeIndex(5, 9, 2))
    save(TwoStageRecommender(item_features=ranged), tmp_path / "r.safetensors")
    pd.testing.assert_frame_equal(load(tmp_path / "r.safetensors").item_features, ranged)


@pytest.mark.parametrize(
    "column, values",
    [
        ("released", pd.to_datetime(["2000-01-01", "2001-01-01"])),
        ("mixed", pd.Series(["a", 1], dtype=object)),
        ("tags", pd.Series([["a"], ["b"]], dtype=object)),
        ("complex", np.array([1j, 2j])),
    ],
)
def test_save_refuses_frame_columns_it_cannot_store(column, values, tmp_path):
    frame = pd.DataFrame({"item_id": [1, 2], column: values})
    with pytest.raises(TypeError, match=f"parameter 'item_features', column '{column}'"):
        save(TwoStageRecommender(item_features=frame), tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()


def test_save_refuses_foreign_stages(tmp_path):
    class MyRanker(MLPRankerEstimator):
        pass

    with pytest.raises(TypeError, match="parameter 'ranker'.*MyRanker"):
        save(TwoStageRecommender(ranker=MyRanker()), tmp_path / "m.safetensors")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only load path")
def test_two_stage_fitted_on_cuda_loads_on_cpu(fitted_two_stage, tmp_path):
    fitted, X, two_stage_file = fitted_two_stage("int-ids-features")

    def on_cuda(document):
        for stage in ["retriever_", "ranker_"]:
            document["attributes"][stage]["attributes"]["device_"]["value"] = "cuda:0"

    target = rewrite(two_stage_file, tmp_path / "cuda.safetensors", document=on_cuda)
    with pytest.warns(DeviceWarning, match="fitted on cuda:0") as record:
        loaded = load(target)
    assert {str(w.message).split(" was")[0] for w in record} == {
        "This SASRecClassifierEstimator",
        "This MLPRankerEstimator",
    }
    assert loaded.retriever_.device_ == loaded.ranker_.device_ == "cpu"
    pd.testing.assert_frame_equal(
        loaded.recommend(X, top_k=3, exclude_seen=False),
        fitted.recommend(X, top_k=3, exclude_seen=False),
    )
    # the device asked for applies to both stages, without a warning
    loaded = load(target, device="cpu")
    assert loaded.retriever_.device_ == loaded.ranker_.device_ == "cpu"


# --------------------------------------------------------------- devices, versions
def test_other_version_warns(sasrec_file, tmp_path):
    target = rewrite(
        sasrec_file,
        tmp_path / "old.safetensors",
        document=lambda d: d.update(skseqrec_version="0.0.1"),
    )
    with pytest.warns(VersionMismatchWarning, match="saved with skseqrec 0.0.1"):
        load(target)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only load path")
def test_model_fitted_on_cuda_loads_on_cpu_with_warning(sasrec, sasrec_file, tiny, tmp_path):
    # tensors are always stored on the CPU; a CUDA-fitted file differs only by device_
    def on_cuda(document):
        document["attributes"]["device_"]["value"] = "cuda:0"

    target = rewrite(sasrec_file, tmp_path / "cuda.safetensors", document=on_cuda)
    with pytest.warns(DeviceWarning, match="fitted on cuda:0"):
        loaded = load(target)
    assert loaded.device_ == "cpu"
    assert_same_recommendations(loaded, sasrec, tiny)
    # asking for the CPU explicitly is not a surprise: no warning
    assert load(target, device="cpu").device_ == "cpu"


def test_device_argument_is_checked(sasrec_file):
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available") as raised:
            load(sasrec_file, device="cuda")
        assert not isinstance(raised.value, ModelFormatError)  # the file is fine
    with pytest.raises(ValueError, match="not a valid torch device"):
        load(sasrec_file, device="warp-drive")
    assert load(sasrec_file, device="auto").device_ == (
        "cuda" if torch.cuda.is_available() else "cpu"
    )


# ---------------------------------------------------------------- refusing to save
def test_save_refuses_foreign_classes(tmp_path):
    class MyPopularity(PopularityRecommender):
        pass

    with pytest.raises(TypeError, match="MyPopularity"):
        save(MyPopularity(), tmp_path / "m.safetensors")
    with pytest.raises(TypeError, match="skseqrec's estimators"):
        save(object(), tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()


def test_save_refuses_values_json_cannot_hold(tmp_path):
    est = PopularityRecommender()
    est.user_col = {"not", "a", "string"}  # parameters are only validated by fit
    with pytest.raises(TypeError, match="parameter 'user_col'"):
        save(est, tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()


# ---------------------------------------------------------------- refusing to load
class _Payload:
    """Unpickling this creates ``marker``: the harm a hostile pickle could do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("writer", ["pickle", "joblib", "torch.save"])
def test_malicious_pickle_is_refused_and_not_run(writer, tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "model.safetensors"
    payload = _Payload(marker)
    if writer == "pickle":
        path.write_bytes(pickle.dumps(payload))
    elif writer == "joblib":
        joblib.dump(payload, path)
    else:
        torch.save(payload, path)

    with pytest.raises(ModelFormatError, match="not a skseqrec model file"):
        load(path)
    assert not marker.exists()

    if writer == "pickle":  # the payload is real: unpickling the same bytes does run it
        pickle.loads(path.read_bytes()).close()
        assert marker.exists()


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\x00",
        np.random.default_rng(0).bytes(4096),
        b"hello, this is a text file\n",
        (8).to_bytes(8, "little") + b"{}      ",  # a valid but empty safetensors header
        (10**12).to_bytes(8, "little") + b"{",  # a header longer than the file
    ],
    ids=["empty", "one-byte", "random", "text", "empty-safetensors", "huge-header"],
)
def test_foreign_bytes_are_refused(content, tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(content)
    with pytest.raises(ModelFormatError):
        load(path)


def test_zip_archive_with_bad_json_is_refused(tmp_path):
    path = tmp_path / "model.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("skseqrec.json", "{not json")
        archive.writestr("weights.safetensors", b"\x00" * 16)
    with pytest.raises(ModelFormatError):
        load(path)


def test_plain_safetensors_file_is_refused(tmp_path):
    path = tmp_path / "weights.safetensors"
    safetensors.torch.save_file({"w": torch.zeros(2)}, path)
    with pytest.raises(ModelFormatError, match="without skseqrec metadata"):
        load(path)
    safetensors.torch.save_file({"w": torch.zeros(2)}, path, metadata={"skseqrec": "{oops"})
    with pytest.raises(ModelFormatError, match="malformed JSON"):
        load(path)


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        load("/nonexistent/model.safetensors")


def _set(*keys, value):
    def edit(document):
        target = document
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return edit


def _delete(*keys):
    def edit(document):
        target = document
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]

    return edit


def _first_module_key(tensors):
    return next(k for k in sorted(tensors) if k.startswith("module.") and tensors[k].dim() == 2)


TAMPERED_DOCUMENTS = {
    "not-an-object": (lambda d: d.clear(), "format field"),
    "format": (_set("format", value="pickle"), "format field"),
    "newer-format": (_set("format_version", value=FORMAT_VERSION + 1), "Upgrade skseqrec"),
    "format-version-type": (_set("format_version", value="1"), "format_version"),
    "class-os-system": (_set("estimator", value="os.system"), "not a skseqrec estimator"),
    "class-base": (_set("estimator", value="BaseRecommender"), "not a skseqrec estimator"),
    "class-function": (
        _set("estimator", value="preset"),
        "not a skseqrec estimator",
    ),
    "class-builtin": (_set("estimator", value="eval"), "not a skseqrec estimator"),
    "class-other-estimator": (_set("estimator", value="PopularityRecommender"), "parameter"),
    "class-not-str": (_set("estimator", value=["SASRecClassifierEstimator"]), "not a skseqrec"),
    "unknown-param": (_set("params", "evil", value={"kind": "json", "value": 1}), "no parameter"),
    "param-kind": (_set("params", "hidden_units", value={"kind": "pickle"}), "unknown kind"),
    "param-not-tagged": (_set("params", "hidden_units", value=8), "expected an object"),
    "param-invalid": (
        _set("params", "hidden_units", value={"kind": "json", "value": -3}),
        "parameters of SASRecClassifierEstimator are invalid",
    ),
    "param-heads": (
        _set("params", "num_heads", value={"kind": "json", "value": 3}),
        "divisible",
    ),
    "param-huge": (
        # would need terabytes if it were built; the meta-device check allocates nothing
        _set("params", "hidden_units", value={"kind": "json", "value": 2**24}),
        "expects",
    ),
    "params-not-object": (_set("params", value=[]), "params must be a JSON object"),
    "shadow-method": (
        _set("attributes", "recommend", value={"kind": "json", "value": 1}),
        "attribute name 'recommend'",
    ),
    "shadow-property": (
        _set("attributes", "classes_", value={"kind": "json", "value": 1}),
        "attribute name 'classes_'",
    ),
    "dunder": (
        _set("attributes", "__class__", value={"kind": "json", "value": "x"}),
        "attribute name '__class__'",
    ),
    "param-as-attribute": (
        _set("attributes", "hidden_units", value={"kind": "json", "value": 8}),
        "attribute name 'hidden_units'",
    ),
    "module-state-renamed": (
        _set("attributes", "weights", value={"kind": "module_state"}),
        "module weights must be stored",
    ),
    "no-module-state": (_delete("attributes", "_module_state"), "does not describe"),
    "module-state-as-json": (
        _set("attributes", "_module_state", value={"kind": "json", "value": 1}),
        "module weights must be stored",
    ),
    "no-encoder": (_delete("attributes", "item_encoder_"), "cannot use"),
    "id-storage": (
        _set("attributes", "item_encoder_", "classes", "storage", value="pickle"),
        "unknown id storage",
    ),
    "id-dtype-datetime": (
        _set("attributes", "item_encoder_", "dtype", value={"kind": "numpy", "name": "<M8[ns]"}),
        "not allowed",
    ),
    "id-dtype-garbage": (
        _set("attributes", "item_encoder_", "dtype", value={"kind": "numpy", "name": "builtins"}),
        "not a numpy dtype",
    ),
    "id-dtype-extension-category": (
        _set(
            "attributes", "item_encoder_", "dtype", value={"kind": "extension", "name": "category"}
        ),
        "not allowed",
    ),
    "id-dtype-extension-unknown": (
        _set(
            "attributes", "item_encoder_", "dtype", value={"kind": "extension", "name": "os.system"}
        ),
        "not a pandas dtype",
    ),
    "id-dtype-string-storage": (
        _set(
            "attributes",
            "item_encoder_",
            "dtype",
            value={"kind": "string", "storage": "evil", "na_value": "nan"},
        ),
        "malformed string dtype",
    ),
    "ndarray-dtype": (
        _set("attributes", "item_counts_", "dtype", value="<f8"),
        "the document says",
    ),
    "history-records": (
        _set("attributes", "_history", "records", value=[{"epoch": {"nested": 1}}]),
        "history records",
    ),
    "device": (_set("attributes", "device_", "value", value="warp-drive:9"), "not a device"),
    "version-type": (_set("skseqrec_version", value=1), "skseqrec_version"),
}


@pytest.mark.parametrize("case", list(TAMPERED_DOCUMENTS))
def test_tampered_document_is_refused(case, sasrec_file, tmp_path):
    edit, message = TAMPERED_DOCUMENTS[case]
    target = rewrite(sasrec_file, tmp_path / "tampered.safetensors", document=edit)
    with pytest.raises(ModelFormatError, match=message):
        load(target)


def _reshape_module(tensors):
    key = _first_module_key(tensors)
    tensors[key] = torch.zeros(tensors[key].shape[0] + 1, tensors[key].shape[1])


def _retype_module(tensors):
    key = _first_module_key(tensors)
    tensors[key] = tensors[key].double()


def _drop_module(tensors):
    del tensors[_first_module_key(tensors)]


def _extra_tensor(tensors):
    tensors["module.backdoor.weight"] = torch.zeros(2)


def _stray_tensor(tensors):
    tensors["something.else"] = torch.zeros(2)


def _short_counts(tensors):
    tensors["attributes.item_counts_"] = tensors["attributes.item_counts_"][:-1].clone()


def _unsorted_ids(tensors):
    name = "attributes.item_encoder_.classes"
    lengths = tensors[name + ".lengths"].clone()
    utf8 = tensors[name + ".utf8"].numpy().tobytes()
    ends = np.cumsum(lengths.numpy())
    strings = [utf8[e - n : e] for e, n in zip(ends, lengths.numpy())]
    strings[0], strings[1] = strings[1], strings[0]
    tensors[name + ".utf8"] = torch.frombuffer(bytearray(b"".join(strings)), dtype=torch.uint8)
    tensors[name + ".lengths"] = torch.tensor([len(v) for v in strings], dtype=torch.int64)


def _duplicate_ids(tensors):
    name = "attributes.item_encoder_.classes"
    lengths = tensors[name + ".lengths"].numpy()
    utf8 = tensors[name + ".utf8"].numpy().tobytes()
    first = utf8[: lengths[0]]
    strings = [first] * len(lengths)
    tensors[name + ".utf8"] = torch.frombuffer(bytearray(b"".join(strings)), dtype=torch.uint8)
    tensors[name + ".lengths"] = torch.full_like(tensors[name + ".lengths"], lengths[0])


def _bad_lengths(tensors):
    lengths = tensors["attributes.item_encoder_.classes.lengths"]
    tensors["attributes.item_encoder_.classes.lengths"] = lengths + 1


def _bad_utf8(tensors):
    utf8 = tensors["attributes.item_encoder_.classes.utf8"].clone()
    utf8[0] = 0xFF
    tensors["attributes.item_encoder_.classes.utf8"] = utf8


TAMPERED_TENSORS = {
    "module-shape": (_reshape_module, "expects"),
    "module-dtype": (_retype_module, "expects"),
    "module-missing": (_drop_module, "missing"),
    "module-extra": (_extra_tensor, "unexpected"),
    "stray-tensor": (_stray_tensor, "does not describe"),
    "item-counts-length": (_short_counts, "item_counts_ has shape"),
    "ids-unsorted": (_unsorted_ids, "unique and sorted"),
    "ids-duplicated": (_duplicate_ids, "unique and sorted"),
    "ids-lengths": (_bad_lengths, "lengths do not match"),
    "ids-utf8": (_bad_utf8, "UTF-8"),
}


@pytest.mark.parametrize("case", list(TAMPERED_TENSORS))
def test_tampered_tensors_are_refused(case, sasrec_file, tmp_path):
    edit, message = TAMPERED_TENSORS[case]
    target = rewrite(sasrec_file, tmp_path / "tampered.safetensors", tensors=edit)
    with pytest.raises(ModelFormatError, match=message):
        load(target)


def test_refusals_are_value_errors():
    assert issubclass(ModelFormatError, ValueError)


def _ranker_tensor(tensors, name="mlp.0.weight"):
    return tensors[f"attributes.ranker_.module.{name}"]


def _widen_ranker_weight(tensors):
    weight = _ranker_tensor(tensors)
    tensors["attributes.ranker_.module.mlp.0.weight"] = torch.zeros(
        weight.shape[0] + 1, weight.shape[1]
    )


def _shorten_ranker_items(tensors):
    # every per-item table shortened alike: consistent in the ranker, not with the catalogue
    for name in list(tensors):
        if name.startswith("attributes.ranker_.module.") and (
            name.endswith(("item_vectors", "popularity", "unknown")) or "metadata_" in name
        ):
            tensors[name] = tensors[name][:-1].clone()


def _codes_out_of_range(tensors):
    codes = tensors["attributes.item_features_.codes.0"].clone()
    codes[0, 0] = 10_000
    tensors["attributes.item_features_.codes.0"] = codes


def _cold_codes(tensors):
    tensors["attributes._to_retriever"] = tensors["attributes._to_retriever"] + 1000


TAMPERED_TWO_STAGE = {
    "nested-class-unknown": (
        _set("attributes", "retriever_", "estimator", value="os.system"),
        None,
        "attribute 'retriever_': estimator 'os.system' is not a skseqrec estimator",
    ),
    "nested-class-builtin": (
        _set("params", "ranker", "estimator", value="eval"),
        None,
        "parameter 'ranker': estimator 'eval' is not a skseqrec estimator",
    ),
    "nested-class-wrong-stage": (
        _set("params", "ranker", "estimator", value="PopularityRecommender"),
        None,
        "no parameter",
    ),
    "retriever-null": (
        _set("attributes", "retriever_", value={"kind": "json", "value": None}),
        None,
        "retriever_ must be a fitted",
    ),
    "ranker-module-as-json": (
        _set("attributes", "ranker_", "attributes", "module_", value={"kind": "json", "value": 1}),
        None,
        "attribute name 'module_'",
    ),
    "ranker-module-init": (
        _set("attributes", "ranker_", "attributes", "_module_init", "value", "hidden", value=[9]),
        None,
        "expects",
    ),
    "ranker-module-init-malformed": (
        _set("attributes", "ranker_", "attributes", "_module_init", "value", "sizes", value="x"),
        None,
        "_module_init' is malformed",
    ),
    "ranker-tensor-shape": (None, _widen_ranker_weight, "module weight 'mlp.0.weight'"),
    "ranker-items": (None, _shorten_ranker_items, "ranker_ holds"),
    "item-features-state": (
        _set("attributes", "item_features_", "state", "fields", value=[]),
        None,
        "item_features_.*Malformed ItemFeatures state",
    ),
    "item-features-version": (
        _set("attributes", "item_features_", "state", "version", value=99),
        None,
        "Malformed ItemFeatures state",
    ),
    "item-features-codes": (None, _codes_out_of_range, "Malformed ItemFeatures state"),
    "code-map": (None, _cold_codes, "_to_retriever must be"),
    "frame-column-storage": (
        _set("params", "item_features", "columns", 1, "values", "storage", value="pickle"),
        None,
        "column 'genres': unknown column storage",
    ),
    "frame-rows": (
        _set("params", "item_features", "n_rows", value=3),
        None,
        "rows",
    ),
    "nesting-too-deep": (
        lambda d: d["params"].update(
            retriever=_nest(d["params"]["ranker"], depth=8),
        ),
        None,
        "nest at most",
    ),
}


def _nest(spec, depth):
    """A TwoStageRecommender parameter holding itself ``depth`` times."""
    for _ in range(depth):
        spec = {
            "kind": "estimator",
            "estimator": "TwoStageRecommender",
            "params": {"retriever": spec},
            "attributes": {},
        }
    return spec


@pytest.mark.parametrize("case", list(TAMPERED_TWO_STAGE))
def test_tampered_two_stage_is_refused(case, two_stage_file, tmp_path):
    document, tensors, message = TAMPERED_TWO_STAGE[case]
    target = rewrite(
        two_stage_file, tmp_path / "tampered.safetensors", document=document, tensors=tensors
    )
    with pytest.raises(ModelFormatError, match=message):
        load(target)
