"""Converts a fitted scikit-learn gradient-boosted tree ensemble (binary classification) to ONNX.

skl2onnx is not available from Debian, so this is a small converter written with ``onnx.helper``.
It supports ``HistGradientBoostingClassifier`` (numeric splits only) and, as a fallback,
``GradientBoostingClassifier`` with the default log-loss and prior init.

Graph (opsets ``ai.onnx`` 17 and ``ai.onnx.ml`` 3, IR version 8, float32 by default)::

    features  float32 [N, F]
       |
    ai.onnx.ml.TreeEnsembleClassifier     post_transform=NONE, classlabels_int64s=[0, 1],
       |                                  every leaf votes for class_id 0, base_values=[baseline]
       |-- tree_label   int64 [N]         (dangling: not a graph output, see below)
       '-- tree_scores  float32 [N, 2]    column 1 = raw margin m = baseline + sum of leaf values
       |
    Slice(starts=[1], ends=[2], axes=[1]) -> margin   [N, 1]
    Mul(platt_a)                          -> scaled   [N, 1]
    Add(platt_b)                          -> logit    [N, 1]
    Sigmoid                               -> score    [N, 1]   calibrated fraud probability

(With ``precision="float64"`` a ``Cast`` to double sits between ``features`` and the trees;
see below.) ``score = sigmoid(a * m + b)``. Without calibration a = 1 and b = 0, which reproduces the
model's own ``predict_proba(X)[:, 1]``: both products are exact in float32, so the two
constant nodes cost nothing in accuracy.

Why this construction. onnxruntime special-cases a binary classifier whose leaves vote for
one class only (checked empirically with onnxruntime-node 1.30, see models/training/README.md):

* ``class_ids`` all 0 and one base value: the margin m (leaf sum + base value) is computed;
  with post_transform NONE the output row is ``[1 - m, m]`` when every leaf weight is
  positive and ``[-m, m]`` otherwise. Column 1 is m in both cases, untouched.
* with LOGISTIC the row becomes ``[1 - p, p]`` or ``[sigmoid(-m), sigmoid(m)]``; fine too,
  but a separate Sigmoid node lets calibration sit between the margin and the sigmoid.
* ``class_ids`` all 1 ignores the leaf weights altogether, and two base values put the
  margin in column 0; neither is used.

The ``label`` output thresholds the raw margin at 0.5 or 0 depending on the signs of the
leaf weights, so it means nothing here; it is left dangling instead of being exported.

Float32 thresholds. scikit-learn compares ``x <= threshold`` (go left) in float64 with
float64 thresholds (HistGradientBoosting casts X to float64; DecisionTree casts X to float32
but keeps float64 thresholds). ONNX thresholds are float32 and onnxruntime compares
``x <= threshold`` in float32 (BRANCH_LEQ, true branch = left). Each threshold t is replaced
by t32 = the largest float32 that is <= t (round *down*, not to nearest). For every float32
input x this gives the same branch: if x <= t32 then x <= t because t32 <= t; if x <= t then
x <= t32 because t32 is the largest float32 not above t and x is a float32. Rounding to
nearest would send inputs in (t, t32] the wrong way whenever t32 > t. Infinite thresholds
(possible for splits on missing values) stay infinite. The serving input is float32, so
this makes the trees choose exactly the leaves scikit-learn chooses for the float32-cast
inputs; only the leaf sum differs: onnxruntime adds ~300 leaf values in float32, which
moves the probability by up to ~2e-6 (mean ~3e-8) against scikit-learn's float64 sum.

Optional float64 trees (``precision="float64"``, trainer flag ``--tree-precision float64``):
a ``Cast`` to double goes in front of the classifier, whose thresholds, leaf values and base
value are then given as double tensors (``*_as_tensor``). The float32 input widens to double
exactly, so the branch tests are scikit-learn's own (no threshold rounding), and the leaf sum
is accumulated in double; only the margin output is float32. On the synthetic data this takes
the max |onnx - sklearn| from ~1e-6 to ~1e-7. The default stays float32 (every kernel in
float, the conventional form, and what a pruned onnxruntime build is most likely to keep).

Missing values: ``missing_go_to_left`` maps to ``nodes_missing_value_tracks_true`` (the
true branch is the left child). Our features never contain NaN, but the mapping is kept
exact anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CONVERTER = "models/training/onnx_trees.py"
CONVERTER_VERSION = "1"
OPSET_AI_ONNX = 17
OPSET_AI_ONNX_ML = 3
IR_VERSION = 8  # what the Debian onnx 1.12 checker knows; onnxruntime 1.30 loads IR 3..11


def float32_floor(values: np.ndarray) -> np.ndarray:
    """Largest float32 <= each value (float64 in, float32 out); +-inf and NaN pass through."""
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(over="ignore"):
        nearest = values.astype(np.float32)
    too_big = nearest.astype(np.float64) > values
    nearest[too_big] = np.nextafter(nearest[too_big], np.float32(-np.inf))
    return nearest


@dataclass
class Tree:
    """One regression tree in array form; node 0 is the root."""

    feature: np.ndarray  # int, feature index of split nodes
    threshold: np.ndarray  # float64, go left when x <= threshold
    left: np.ndarray  # int, child node ids
    right: np.ndarray
    is_leaf: np.ndarray  # bool
    value: np.ndarray  # float64 leaf contribution to the margin (learning rate applied)
    missing_left: np.ndarray = field(default=None)  # bool, where NaN goes

    def __post_init__(self) -> None:
        if self.missing_left is None:
            self.missing_left = np.zeros(len(self.feature), dtype=bool)


@dataclass
class Ensemble:
    """margin(x) = baseline + sum(tree leaf values); probability = sigmoid(margin)."""

    trees: list[Tree]
    baseline: float
    n_features: int
    source: str


def from_hist_gradient_boosting(model) -> Ensemble:
    """Extracts the trees of a fitted binary HistGradientBoostingClassifier."""
    if getattr(model, "n_trees_per_iteration_", 1) != 1 or len(model.classes_) != 2:
        raise ValueError("only binary HistGradientBoostingClassifier is supported")
    trees = []
    for predictors in model._predictors:
        (predictor,) = predictors
        nodes = predictor.nodes
        if nodes["is_categorical"].any():
            raise ValueError("categorical splits are not supported")
        trees.append(
            Tree(
                feature=nodes["feature_idx"].astype(np.int64),
                threshold=nodes["num_threshold"].astype(np.float64),
                left=nodes["left"].astype(np.int64),
                right=nodes["right"].astype(np.int64),
                is_leaf=nodes["is_leaf"].astype(bool),
                value=nodes["value"].astype(np.float64),
                missing_left=nodes["missing_go_to_left"].astype(bool),
            )
        )
    baseline = float(np.asarray(model._baseline_prediction).reshape(-1)[0])
    return Ensemble(trees, baseline, int(model.n_features_in_), type(model).__name__)


def from_gradient_boosting(model) -> Ensemble:
    """Extracts the trees of a fitted binary GradientBoostingClassifier (log-loss, prior init)."""
    if model.estimators_.shape[1] != 1:
        raise ValueError("only binary GradientBoostingClassifier is supported")
    n_features = int(model.n_features_in_)
    baseline = float(model._raw_predict_init(np.zeros((1, n_features), dtype=np.float32))[0, 0])
    trees = []
    for estimator in model.estimators_[:, 0]:
        t = estimator.tree_
        leaf = t.children_left == -1
        trees.append(
            Tree(
                feature=np.where(leaf, 0, t.feature).astype(np.int64),
                threshold=np.where(leaf, 0.0, t.threshold).astype(np.float64),
                left=np.where(leaf, 0, t.children_left).astype(np.int64),
                right=np.where(leaf, 0, t.children_right).astype(np.int64),
                is_leaf=leaf,
                value=(t.value[:, 0, 0] * model.learning_rate).astype(np.float64),
            )
        )
    return Ensemble(trees, baseline, n_features, type(model).__name__)


def extract(model) -> Ensemble:
    name = type(model).__name__
    if name == "HistGradientBoostingClassifier":
        return from_hist_gradient_boosting(model)
    if name == "GradientBoostingClassifier":
        return from_gradient_boosting(model)
    raise TypeError(f"unsupported model type {name}")


def leaf_ids(tree: Tree, X: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Vectorised traversal: the leaf each row of X reaches (x <= threshold goes left)."""
    node = np.zeros(X.shape[0], dtype=np.int64)
    rows = np.arange(X.shape[0])
    while True:
        active = ~tree.is_leaf[node]
        if not active.any():
            return node
        n = node[active]
        x = X[rows[active], tree.feature[n]]
        go_left = np.where(np.isnan(x), tree.missing_left[n], x <= thresholds[n])
        node[active] = np.where(go_left, tree.left[n], tree.right[n])


def check_against(ensemble: Ensemble, X32: np.ndarray, reference_margin: np.ndarray) -> dict:
    """Checks the extraction on float32 rows: the float32-floored thresholds reach the same
    leaves as the float64 ones, and baseline + leaf sums reproduces ``reference_margin``
    (the estimator's ``decision_function``). Returns the max differences; raises on a path
    mismatch."""
    X = np.asarray(X32, dtype=np.float32).astype(np.float64)
    margin = np.full(X.shape[0], ensemble.baseline)
    for i, tree in enumerate(ensemble.trees):
        leaves64 = leaf_ids(tree, X, tree.threshold)
        leaves32 = leaf_ids(tree, X, float32_floor(tree.threshold).astype(np.float64))
        if not np.array_equal(leaves64, leaves32):
            raise AssertionError(f"tree {i}: float32 thresholds change the path of some rows")
        margin += tree.value[leaves64]
    return {"rows": int(X.shape[0]), "maxMarginDiff": float(np.max(np.abs(margin - reference_margin)))}


def _tree_ensemble_node(ensemble: Ensemble, input_name: str, precision: str) -> onnx.NodeProto:
    attrs: dict[str, list] = {k: [] for k in (
        "nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_modes", "nodes_values",
        "nodes_truenodeids", "nodes_falsenodeids", "nodes_missing_value_tracks_true",
        "class_treeids", "class_nodeids", "class_ids", "class_weights")}
    for tree_id, tree in enumerate(ensemble.trees):
        thresholds = float32_floor(tree.threshold) if precision == "float32" else tree.threshold
        weights = tree.value.astype(np.float32) if precision == "float32" else tree.value
        for node_id in range(len(tree.feature)):
            leaf = bool(tree.is_leaf[node_id])
            attrs["nodes_treeids"].append(tree_id)
            attrs["nodes_nodeids"].append(node_id)
            attrs["nodes_featureids"].append(0 if leaf else int(tree.feature[node_id]))
            attrs["nodes_modes"].append("LEAF" if leaf else "BRANCH_LEQ")
            attrs["nodes_values"].append(0.0 if leaf else float(thresholds[node_id]))
            attrs["nodes_truenodeids"].append(0 if leaf else int(tree.left[node_id]))
            attrs["nodes_falsenodeids"].append(0 if leaf else int(tree.right[node_id]))
            attrs["nodes_missing_value_tracks_true"].append(0 if leaf else int(tree.missing_left[node_id]))
            if leaf:
                attrs["class_treeids"].append(tree_id)
                attrs["class_nodeids"].append(node_id)
                attrs["class_ids"].append(0)
                attrs["class_weights"].append(float(weights[node_id]))
    if precision == "float64":
        # Same attributes as double tensors: thresholds, leaf values and the sum stay float64.
        attrs["nodes_values_as_tensor"] = numpy_helper.from_array(np.array(attrs.pop("nodes_values"), dtype=np.float64))
        attrs["class_weights_as_tensor"] = numpy_helper.from_array(np.array(attrs.pop("class_weights"), dtype=np.float64))
        attrs["base_values_as_tensor"] = numpy_helper.from_array(np.array([ensemble.baseline], dtype=np.float64))
    else:
        attrs["base_values"] = [float(np.float32(ensemble.baseline))]
    return helper.make_node(
        "TreeEnsembleClassifier",
        inputs=[input_name],
        outputs=["tree_label", "tree_scores"],
        name="trees",
        domain="ai.onnx.ml",
        classlabels_int64s=[0, 1],
        post_transform="NONE",
        **attrs,
    )


def build_model(
    ensemble: Ensemble,
    platt_a: float = 1.0,
    platt_b: float = 0.0,
    *,
    input_name: str = "features",
    output_name: str = "score",
    graph_name: str = "fraud_gbdt",
    doc_string: str = "",
    metadata: dict[str, str] | None = None,
    precision: str = "float32",
) -> onnx.ModelProto:
    """Builds and checks the ONNX model described in the module docstring.

    ``platt_a`` / ``platt_b`` are stored as float32; pass values that already are float32
    (``float(np.float32(a))``) so the reference computation uses exactly the same numbers.
    ``precision="float64"`` selects the Cast + double-tree variant (see the module docstring).
    """
    if precision not in ("float32", "float64"):
        raise ValueError(f"precision must be float32 or float64, not {precision}")
    f = ensemble.n_features
    tree_nodes = [_tree_ensemble_node(ensemble, input_name, precision)]
    if precision == "float64":
        tree_nodes = [
            helper.make_node("Cast", [input_name], ["features_f64"], name="to_double", to=TensorProto.DOUBLE),
            _tree_ensemble_node(ensemble, "features_f64", precision),
        ]
    init = [
        helper.make_tensor("slice_starts", TensorProto.INT64, [1], [1]),
        helper.make_tensor("slice_ends", TensorProto.INT64, [1], [2]),
        helper.make_tensor("slice_axes", TensorProto.INT64, [1], [1]),
        helper.make_tensor("platt_a", TensorProto.FLOAT, [], [float(np.float32(platt_a))]),
        helper.make_tensor("platt_b", TensorProto.FLOAT, [], [float(np.float32(platt_b))]),
    ]
    nodes = [
        *tree_nodes,
        helper.make_node("Slice", ["tree_scores", "slice_starts", "slice_ends", "slice_axes"], ["margin"], name="positive_column"),
        helper.make_node("Mul", ["margin", "platt_a"], ["scaled"], name="platt_scale"),
        helper.make_node("Add", ["scaled", "platt_b"], ["logit"], name="platt_shift"),
        helper.make_node("Sigmoid", ["logit"], [output_name], name="probability"),
    ]
    graph = helper.make_graph(
        nodes,
        graph_name,
        inputs=[helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["N", f])],
        outputs=[helper.make_tensor_value_info(output_name, TensorProto.FLOAT, ["N", 1])],
        initializer=init,
        value_info=[
            helper.make_tensor_value_info("tree_label", TensorProto.INT64, ["N"]),
            helper.make_tensor_value_info("tree_scores", TensorProto.FLOAT, ["N", 2]),
            helper.make_tensor_value_info("margin", TensorProto.FLOAT, ["N", 1]),
            helper.make_tensor_value_info("scaled", TensorProto.FLOAT, ["N", 1]),
            helper.make_tensor_value_info("logit", TensorProto.FLOAT, ["N", 1]),
        ],
        doc_string=doc_string,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET_AI_ONNX), helper.make_opsetid("ai.onnx.ml", OPSET_AI_ONNX_ML)],
        producer_name="fraud-scoring-stack/onnx_trees.py",
        producer_version=CONVERTER_VERSION,
        doc_string=doc_string,
    )
    model.ir_version = IR_VERSION
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, str(value)
    onnx.checker.check_model(model, full_check=True)
    return model


def reference_scores(margin: np.ndarray, platt_a: float = 1.0, platt_b: float = 0.0) -> np.ndarray:
    """Float64 reference of the graph's output for float64 margins."""
    z = float(np.float32(platt_a)) * np.asarray(margin, dtype=np.float64) + float(np.float32(platt_b))
    return 1.0 / (1.0 + np.exp(-z))
