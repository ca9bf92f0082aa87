"""Module traversal, Linear, Sequential, Dropout, LayerNorm, Embedding, state dicts."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest

from tinytorch import Parameter, Tensor, manual_seed, no_grad
from tinytorch.core.activations import ReLU
from tinytorch.core.layers import Dropout, Embedding, LayerNorm, Linear, Module, Sequential


def mlp(seed: int = 0) -> Sequential:
    rng = np.random.default_rng(seed)
    return Sequential(Linear(4, 8, rng=rng), ReLU(), Dropout(0.5, rng=rng), Linear(8, 3, rng=rng))


def test_linear_shapes_init_and_math():
    layer = Linear(64, 128, rng=np.random.default_rng(0))
    assert layer.weight.shape == (64, 128) and layer.bias.shape == (128,)
    bound = 1 / np.sqrt(64)
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.bias.data).max() <= bound
    assert layer.weight.data.std() > 0.5 * bound / np.sqrt(3), "weights must be spread over the range"
    x = np.random.default_rng(1).random((5, 64), dtype=np.float32)
    np.testing.assert_allclose(layer(Tensor(x)).data, x @ layer.weight.data + layer.bias.data, rtol=1e-5)
    assert Linear(3, 2, bias=False).bias is None


def test_linear_inference_path_equals_training_path():
    layer = Linear(6, 5, rng=np.random.default_rng(3))
    x = Tensor(np.random.default_rng(4).normal(size=(2, 6)))
    with no_grad():
        fast = layer(x)
    slow = layer(x)
    assert not fast.requires_grad and slow.requires_grad
    np.testing.assert_array_equal(fast.data, slow.data)


def test_linear_rejects_wrong_width_and_bad_sizes():
    with pytest.raises(ValueError, match=r"last dimension is 4; got shape \(2, 5\)"):
        Linear(4, 3)(Tensor(np.ones((2, 5))))
    with pytest.raises(ValueError, match="in_features must be a positive integer; got 0"):
        Linear(0, 3)
    with pytest.raises(ValueError, match="out_features"):
        Linear(3, 2.5)


def test_named_parameters_follow_attribute_paths_and_dedupe_shared():
    model = mlp()
    assert [n for n, _ in model.named_parameters()] == [
        "layers.0.weight", "layers.0.bias", "layers.3.weight", "layers.3.bias"]
    assert len(model.parameters()) == 4

    class Tied(Module):
        def __init__(self) -> None:
            self.a = Linear(2, 2)
            self.b = Linear(2, 2)
            self.b.weight = self.a.weight

    assert len(Tied().parameters()) == 3  # no super().__init__(): still works


def test_train_and_eval_reach_every_submodule():
    model = mlp()
    assert model.eval() is model
    assert all(not m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_dropout_zeroes_about_p_and_rescales_while_training_only():
    drop = Dropout(0.25, rng=np.random.default_rng(0))
    x = Tensor(np.ones((200, 100)))
    y = drop(x).data
    assert abs((y == 0).mean() - 0.25) < 0.02
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.75], rtol=1e-6)
    drop.eval()
    assert drop(x) is x
    for p in (-0.1, 1.0):
        with pytest.raises(ValueError, match=r"\[0, 1\)"):
            Dropout(p)


def test_state_dict_round_trips_through_npz_without_pickle(tmp_path):
    model, other = mlp(0), mlp(1)
    x = Tensor(np.random.default_rng(2).normal(size=(3, 4)))
    model.eval()
    other.eval()
    assert not np.allclose(model(x).data, other(x).data)
    path = tmp_path / "weights.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == sorted(model.state_dict())
    other.load(path)
    np.testing.assert_array_equal(model(x).data, other(x).data)


def test_state_dict_is_a_copy_and_loading_keeps_the_parameter_objects():
    model = mlp()
    state = model.state_dict()
    state["layers.0.bias"][:] = 123.0
    assert not (model.layers[0].bias.data == 123.0).any()
    bias = model.layers[0].bias
    model.load_state_dict(state)
    assert model.layers[0].bias is bias and (bias.data == 123.0).all()


def test_load_state_dict_mismatch_is_named_and_changes_nothing():
    model = mlp()
    before = model.state_dict()
    bad = dict(before)
    bad["layers.3.weight"] = np.zeros((9, 3))
    bad["layers.0.bias"] = np.full(8, 5.0)
    with pytest.raises(ValueError, match=r"'layers.3.weight' has shape \(9, 3\); the model expects \(8, 3\)"):
        model.load_state_dict(bad)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    with pytest.raises(KeyError, match=r"missing keys \['layers.0.bias'\], unexpected keys \['extra'\]"):
        model.load_state_dict({**{k: v for k, v in before.items() if k != "layers.0.bias"}, "extra": np.ones(1)})


def test_buffers_are_part_of_the_state_dict():
    class WithBuffer(Module):
        def __init__(self) -> None:
            self.lin = Linear(2, 2)
            self.register_buffer("codes", np.arange(4, dtype=np.int8))

    m = WithBuffer()
    state = m.state_dict()
    assert state["codes"].dtype == np.int8
    state["codes"] = np.zeros(4, dtype=np.int8)
    m.load_state_dict(state)
    assert m.codes.tolist() == [0, 0, 0, 0]


def test_sequential_checks_its_members_and_indexes():
    with pytest.raises(TypeError, match="argument 1 must be a Module; got function"):
        Sequential(Linear(2, 2), lambda x: x)
    model = mlp()
    assert len(model) == 4 and isinstance(model[0], Linear) and list(model)[1].__class__ is ReLU
    assert "Linear(in_features=4, out_features=8, bias=True)" in repr(model)


def test_layernorm_normalises_the_last_axis():
    x = Tensor(np.random.default_rng(0).normal(3.0, 5.0, size=(4, 16)))
    y = LayerNorm(16)(x).data
    np.testing.assert_allclose(y.mean(axis=-1), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.std(axis=-1), 1.0, atol=1e-3)
    with pytest.raises(ValueError, match=r"LayerNorm\(8\) got input of shape \(4, 16\)"):
        LayerNorm(8)(x)


def test_embedding_looks_up_rows_and_checks_ids():
    emb = Embedding(5, 3, rng=np.random.default_rng(0))
    out = emb(np.array([[4, 0]]))
    np.testing.assert_array_equal(out.data[0], emb.weight.data[[4, 0]])
    with pytest.raises(IndexError, match=r"\[0, 5\); got values from 0 to 5"):
        emb(np.array([0, 5]))
    with pytest.raises(TypeError, match="integer token ids; got dtype float64"):
        emb(np.array([0.0]))


def test_manual_seed_makes_default_initialisation_repeatable():
    manual_seed(7)
    a = Linear(3, 3).weight.data.copy()
    manual_seed(7)
    np.testing.assert_array_equal(a, Linear(3, 3).weight.data)
    with pytest.raises(ValueError, match="non-negative integer"):
        manual_seed(-1)


def test_parameters_are_float32_parameters():
    assert all(isinstance(p, Parameter) and p.dtype == np.float32 for p in mlp().parameters())


class _Holder(Module):
    """Children in every place a module can hold them: an attribute, a list, a tuple, a named tuple."""

    def __init__(self, layers: list[Module]) -> None:
        super().__init__()
        self.first = layers[0]
        self.listed = [layers[1], "not a module"]
        self.tupled = (layers[2], 3)
        self.named = _Pair(layers[3], layers[0])   # shares layers[0] with .first


class _Pair(NamedTuple):
    left: Module
    right: Module


def test_replace_children_reaches_attributes_lists_tuples_and_named_tuples():
    layers = [Linear(2, 2) for _ in range(4)]
    holder = _Holder(layers)
    asked: list[int] = []

    def to_relu(m: Module) -> Module | None:
        asked.append(id(m))
        return ReLU() if isinstance(m, Linear) else None

    holder.replace_children(to_relu)
    assert isinstance(holder.first, ReLU) and isinstance(holder.listed[0], ReLU)
    assert holder.listed[1] == "not a module" and holder.tupled[1] == 3
    assert isinstance(holder.tupled, tuple) and isinstance(holder.tupled[0], ReLU)
    assert isinstance(holder.named, _Pair) and isinstance(holder.named.left, ReLU)
    assert holder.named.right is holder.first, "a module held twice gets one replacement, held twice"
    assert sorted(asked) == sorted(id(m) for m in layers), "each module is asked about once"
    assert [type(c).__name__ for _, c in holder.named_children()] == ["ReLU"] * 5


def test_replace_children_descends_only_where_nothing_was_replaced():
    inner = Sequential(Linear(2, 2), ReLU())
    outer = Sequential(inner, Linear(2, 2))
    seen: list[str] = []

    def keep_but_record(m: Module) -> Module | None:
        seen.append(type(m).__name__)
        return Sequential() if m is inner else None

    outer.replace_children(keep_but_record)
    assert seen == ["Sequential", "Linear"], "a replacement's old children are not visited"
    assert isinstance(outer.layers[0], Sequential) and not outer.layers[0].layers
