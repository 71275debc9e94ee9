"""Keras 3: a ``.keras`` zip (config.json + model.weights.h5), or a config with ``get_weights()`` as JSON.

In model.weights.h5 a Dense layer's kernel (in × out, Wᵀ) is ``layers/<group>/vars/0`` and its bias
``vars/1``, where ``<group>`` is the snake-case class name numbered in layer order (``dense``,
``dense_1``, …; see :mod:`service.interop.keras_config`). The writer makes the same layout with
h5py and zipfile, without importing Keras. HDF5 links to other files, external or virtual datasets
and filters other than gzip/shuffle/lzf/fletcher32 are refused: reading them would touch the
server's disk or load plug-ins.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from typing import Any

import h5py
import numpy as np

from service.engine.arrays import Array
from service.engine.forms import KerasFunction, NoForm
from service.interop.activation_forms import RECORDS, keras_forms, left_out, write_value, written
from service.interop.archive import Archive
from service.interop.errors import CorruptFile, KeyMismatch, TooLarge, UnsafeFile
from service.interop.keras_config import Chain, read_config, unique_names
from service.interop.network import WireLayer, WireNetwork, check_chain, matrix, name_and_params, tensor_source, vector

CONFIG, METADATA, WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
FILTERS = {"gzip", "shuffle", "lzf", "fletcher32"}


def _json(data: bytes, where: str) -> Any:
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptFile(f"is not valid JSON ({exc})", where) from None


def _layers(
    chain: Chain, tensors: Sequence[tuple[Array, Array | None]], keys: list[tuple[str, str | None]], dtypes: list[str]
) -> dict[str, Any]:
    """The network from a chain's Dense layers and their (kernel, bias), after the shape checks, and its source."""
    layers: list[WireLayer] = []
    sources = []
    for i, (dense, (kernel, bias), (kernel_key, bias_key)) in enumerate(zip(chain.dense, tensors, keys, strict=True)):
        W = np.ascontiguousarray(matrix(kernel, kernel_key).T)
        if W.shape[0] != dense.units:
            raise KeyMismatch(f"the kernel has shape {list(kernel.shape)} but layer {dense.name!r} has {dense.units} units", kernel_key)
        b = None if bias is None or bias_key is None else vector(bias, dense.units, bias_key)
        layer: WireLayer = {"weights": W, "bias": b, "activation": dense.activation}
        if not dense.trainable:
            layer["trainable"] = False
        layers.append(layer)
        sources.append(
            {
                "name": dense.name,
                "type": "Dense",
                "weights": tensor_source(kernel_key, W, dtypes[2 * i], transposed=True),
                "bias": None if b is None or bias_key is None else tensor_source(bias_key, b, dtypes[2 * i + 1]),
                "activation_from": dense.activation_from,
            }
        )
    check_chain(layers, [k for k, _ in keys])
    first = layers[0]["weights"].shape[1]
    if chain.input_size is not None and chain.input_size != first:
        raise KeyMismatch(f"the input layer takes {chain.input_size} features but the first kernel has {first} rows", keys[0][0])
    network: WireNetwork = {"layers": layers}
    return {"network": network, "source": {"layers": sources, "skipped": chain.skipped}}


# --- .keras ------------------------------------------------------------------------------------------------


def _checked_get(root: h5py.File, path: str) -> Any:
    """``root[path]``, refusing links to other files and (soft) links on the way; None if absent."""
    node: Any = root
    walked = ""
    for part in path.split("/"):
        walked = f"{walked}/{part}"
        if not isinstance(node, h5py.Group) or part not in node:
            return None
        link = node.get(part, getlink=True)
        if not isinstance(link, h5py.HardLink):
            raise UnsafeFile(
                f"is a {type(link).__name__}; links are refused (they can point at files on the server)", f"/{WEIGHTS}{walked}"
            )
        node = node[part]
    return node


def _dataset(ds: Any, where: str, budget: list[int]) -> tuple[np.ndarray[Any, Any], str]:
    if not isinstance(ds, h5py.Dataset):
        raise CorruptFile("is not a dataset", where)
    if ds.external or ds.is_virtual:
        raise UnsafeFile("is stored in other files (external or virtual dataset); refused, it would read the server's disk", where)
    unknown = set(ds._filters) - FILTERS
    if unknown:
        raise UnsafeFile(f"uses the HDF5 filters {sorted(unknown)}; only {sorted(FILTERS)} are read (others load plug-ins)", where)
    size = int(ds.size) * ds.dtype.itemsize
    if size > budget[0]:
        raise TooLarge(f"holds {size:,} bytes, past what is left of max_import_uncompressed_bytes ({budget[0]:,})", where)
    budget[0] -= size
    try:
        return np.asarray(ds[()]), ds.dtype.name
    except (OSError, TypeError, ValueError) as exc:
        raise CorruptFile(f"cannot be read ({exc})", where) from None


def _h5_weights(data: bytes, chain: Chain, budget: int) -> dict[str, Any]:
    try:
        root = h5py.File(io.BytesIO(data), "r")
    except OSError as exc:
        raise CorruptFile(f"is not an HDF5 file ({exc})", f"/{WEIGHTS}") from None
    left = [budget]
    tensors, keys, dtypes = [], [], []
    with root:
        for dense in chain.dense:
            vars_path = f"{dense.store}/vars"
            group = _checked_get(root, vars_path)
            where = f"/{WEIGHTS}/{vars_path}"
            if not isinstance(group, h5py.Group):
                raise KeyMismatch(f"is missing: the weights of Dense layer {dense.name!r}", where)
            stored_name = group.attrs.get("name")
            if stored_name is not None and str(stored_name) != dense.name:
                raise KeyMismatch(f"holds the weights of layer {stored_name!r}, but the config puts Dense {dense.name!r} here", where)
            expected = ["0", "1"] if dense.use_bias else ["0"]
            present = sorted(group.keys())
            if present != expected:
                missing, extra = sorted(set(expected) - set(present)), sorted(set(present) - set(expected))
                detail = "; ".join(
                    ([f"missing {', '.join(missing)}"] if missing else []) + ([f"unexpected {', '.join(extra)}"] if extra else [])
                )
                raise KeyMismatch(
                    f"{detail}: Dense {dense.name!r} (use_bias={dense.use_bias}) has vars {', '.join(expected)} (kernel, bias)", where
                )
            kernel, kernel_dtype = _dataset(_checked_get(root, f"{vars_path}/0"), f"{where}/0", left)
            bias, bias_dtype = _dataset(_checked_get(root, f"{vars_path}/1"), f"{where}/1", left) if dense.use_bias else (None, "")
            tensors.append((kernel, bias))
            keys.append((f"{where}/0", f"{where}/1" if dense.use_bias else None))
            dtypes += [kernel_dtype, bias_dtype]
    return _layers(chain, tensors, keys, dtypes)


def read_keras(data: bytes, *, max_uncompressed_bytes: int) -> dict[str, Any]:
    """A ``.keras`` zip's network and source."""
    archive = Archive(data, max_uncompressed_bytes, "keras")
    if WEIGHTS not in archive.names():
        sharded = [n for n in archive.names() if n.endswith(".npz") or n.endswith(".weights.json")]
        why = f" (it has {', '.join(sharded)}: npz or sharded weights are not read)" if sharded else ""
        raise KeyMismatch(f"the archive has no {WEIGHTS}{why}", f"/{WEIGHTS}")
    config = _json(archive.read(CONFIG), f"/{CONFIG}")
    metadata = _json(archive.read(METADATA), f"/{METADATA}") if METADATA in archive.names() else {}
    chain = read_config(config, f"/{CONFIG}")
    result = _h5_weights(archive.read(WEIGHTS), chain, archive.left)
    result["source"]["keras_version"] = metadata.get("keras_version") if isinstance(metadata, dict) else None
    return result


# --- keras_json ----------------------------------------------------------------------------------------------


def read_keras_json(data: bytes) -> dict[str, Any]:
    """``{"config": model.to_json(), "weights": model.get_weights()}``: the weights in get_weights() order."""
    body = _json(data, "")
    if not isinstance(body, dict) or set(body) != {"config", "weights"}:
        got = sorted(body) if isinstance(body, dict) else type(body).__name__
        raise KeyMismatch(f'expected an object {{"config": model.to_json(), "weights": model.get_weights()}}; got {got}', "")
    config = _json(body["config"].encode(), "/config") if isinstance(body["config"], str) else body["config"]
    chain = read_config(config, "/config")
    weights = body["weights"]
    needed = sum(2 if d.use_bias else 1 for d in chain.dense)
    if not isinstance(weights, list) or len(weights) != needed:
        count = len(weights) if isinstance(weights, list) else "no list of"
        raise KeyMismatch(f"has {count} arrays; the config's Dense layers need {needed} (each kernel, then its bias)", "/weights")
    tensors, keys, dtypes, i = [], [], [], 0
    for dense in chain.dense:
        try:
            kernel = np.asarray(weights[i], dtype=np.float64)
            bias = np.asarray(weights[i + 1], dtype=np.float64) if dense.use_bias else None
        except (ValueError, TypeError):
            raise CorruptFile(f"the weights of Dense {dense.name!r} are not arrays of numbers", f"/weights/{i}") from None
        tensors.append((kernel, bias))
        keys.append((f"/weights/{i}", f"/weights/{i + 1}" if dense.use_bias else None))
        dtypes += ["float64", "float64" if dense.use_bias else ""]
        i += 2 if dense.use_bias else 1
    return _layers(chain, tensors, keys, dtypes)


# --- writing ------------------------------------------------------------------------------------------------


def _keras_layers(h: Any, l: int) -> tuple[str, dict[str, Any] | None]:
    """The Dense's activation and, for a parameter Keras's names cannot carry, an activation layer after it (its record's forms)."""
    name, params = name_and_params(h)
    forms = RECORDS[name][1]
    claimed = forms.keras if isinstance(forms.keras, NoForm) else keras_forms(forms)
    form = written("Keras", (name, params), claimed, f"/network/layers/{l}/activation")
    if isinstance(form, KerasFunction):
        return form.name, None
    config = {k: write_value(v, params) for k, v in form.config.items() if not left_out(v)}
    return "linear", {"class_name": form.class_name, "config": config}


def _layer(
    class_name: str, name: str, dtype: str, config: dict[str, Any], input_size: int | None = None, trainable: bool = True
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "module": "keras.layers",
        "class_name": class_name,
        "config": {"name": name, "trainable": trainable, "dtype": dtype, **config},
        "registered_name": None,
    }
    if input_size is not None:
        entry["build_config"] = {"input_shape": [None, input_size]}
    return entry


def write_keras(network: WireNetwork, dtype: str) -> bytes:
    """A ``.keras`` zip that ``keras.saving.load_model`` loads: a Sequential of Dense (and activation) layers.

    A frozen layer is written with Keras's ``trainable: false``; Keras has no flag for a bias alone,
    so ``train_bias`` is not written (as ONNX and safetensors write neither).
    """
    layers = network["layers"]
    M = int(layers[0]["weights"].shape[1])
    config_layers: list[dict[str, Any]] = [
        {
            "module": "keras.layers",
            "class_name": "InputLayer",
            "config": {"batch_shape": [None, M], "dtype": dtype, "name": "input_layer"},
            "registered_name": None,
        }
    ]
    weights: list[tuple[Array, ...]] = []  # per layer of model.layers: its vars in order
    for l, layer in enumerate(layers):
        K, M_l = layer["weights"].shape
        h, extra = _keras_layers(layer["activation"], l)
        dense = {"units": int(K), "activation": h, "use_bias": layer["bias"] is not None}
        config_layers.append(_layer("Dense", f"dense_{l}", dtype, dense, int(M_l), layer.get("trainable", True)))
        W = layer["weights"].astype(dtype)
        weights.append((np.ascontiguousarray(W.T),) if layer["bias"] is None else (np.ascontiguousarray(W.T), layer["bias"].astype(dtype)))
        if extra is not None:
            config_layers.append(_layer(extra["class_name"], f"activation_{l}", dtype, extra["config"], int(K)))
            weights.append(())
    model = {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "sequential", "trainable": True, "dtype": dtype, "layers": config_layers, "build_input_shape": [None, M]},
        "registered_name": None,
        "build_config": {"input_shape": [None, M]},
    }
    groups = unique_names([entry["class_name"] for entry in config_layers[1:]])
    h5 = io.BytesIO()
    with h5py.File(h5, "w") as f:
        for group, entry, arrays in zip(groups, config_layers[1:], weights, strict=True):
            vars_group = f.create_group(f"layers/{group}/vars")
            vars_group.attrs["name"] = entry["config"]["name"]
            for i, array in enumerate(arrays):
                vars_group.create_dataset(str(i), data=array)
        f.create_group("vars").attrs["name"] = "sequential"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr(METADATA, json.dumps({"keras_version": "3.0.0", "written_by": "gradient-service"}))
        z.writestr(CONFIG, json.dumps(model))
        z.writestr(WEIGHTS, h5.getvalue())
    return out.getvalue()
