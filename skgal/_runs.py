"""The layer that runs and reports experiments, shared by ``skgal reproduce`` and
``skgal benchmark``: atomic writes, JSON-safe values, provenance (versions, machine),
a progress bar over training epochs, checkpoints of finished work, and tables.

This module imports nothing from skgal but the predictive distributions.
"""

import json
import os
import warnings

import numpy as np

from ._distributions import from_arrays, to_arrays

__all__ = ["epoch_bar", "jsonable", "load_checkpoint", "machine", "save_checkpoint",
           "versions", "write_atomically", "write_rows"]


def write_atomically(path, write, mode="w"):
    """Write through ``path.partial`` and rename, so a killed run leaves no file that
    looks complete."""
    partial = f"{path}.partial"
    with open(partial, mode) as f:
        write(f)
    os.replace(partial, path)


def jsonable(value):
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def versions():
    """Versions of skgal and of the libraries behind a result.

    Returns
    -------
    dict
        ``{distribution: version}``; None for one that is not installed.

    Examples
    --------
    >>> from skgal.experiments import versions
    >>> sorted(versions())[:3]
    ['dynesty', 'h5py', 'keras']
    """
    import importlib.metadata as md

    names = ("skgal", "numpy", "scipy", "numba", "scikit-learn", "scikeras", "tensorflow",
             "keras", "tensorflow-probability", "h5py", "dynesty")
    found = {}
    for name in names:
        try:
            found[name] = md.version(name)
        except md.PackageNotFoundError:
            found[name] = None
    return found


def machine():
    """The hardware a result was measured on: platform, CPU model and count, GPUs.

    Examples
    --------
    >>> from skgal.experiments import machine
    >>> sorted(machine())
    ['cpu', 'cpu_count', 'gpus', 'platform', 'python']
    """
    import platform

    cpu = platform.processor() or None
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        import tensorflow as tf

        gpus = [tf.config.experimental.get_device_details(d).get("device_name", d.name)
                for d in tf.config.list_physical_devices("GPU")]
    except ImportError:
        gpus = []
    return {"platform": platform.platform(), "python": platform.python_version(),
            "cpu": cpu, "cpu_count": os.cpu_count(), "gpus": gpus}


def epoch_bar(label, epochs):
    """A Keras callback showing a tqdm bar over the epochs of one training."""
    import keras
    from tqdm.auto import tqdm

    class EpochBar(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.bar = tqdm(total=epochs, desc=f"train {label:9s}", unit="epoch", leave=True)

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            self.bar.set_postfix({k: f"{v:.3f}" for k, v in logs.items()
                                  if k in ("loss", "val_loss")})
            self.bar.update(1)

        def on_train_end(self, logs=None):
            self.bar.close()

        def __reduce__(self):  # a fitted regressor that holds it can be pickled
            return epoch_bar, (label, epochs)

    return EpochBar()


def write_rows(rows, columns, out_dir, name):
    """Write ``rows`` as ``<name>.csv`` and ``<name>.md`` (a Markdown table) in ``out_dir``.

    Numbers are rounded to three decimals (times, the columns named
    ``seconds*``, to three significant figures); None is an empty cell. Existing tables of
    the same name are replaced: they are outputs of the run.

    Parameters
    ----------
    rows : list of dict
        One dict per row, with at least the keys of ``columns``.
    columns : sequence of str
    out_dir : str or path-like
        An existing directory.
    name : str
        The files' stem.
    """
    def fmt(value, column):
        if value is None:
            return ""
        if isinstance(value, (float, np.floating)):
            # times span microseconds to minutes: significant figures, not decimals
            return f"{value:.3g}" if column.startswith("seconds") else f"{value:.3f}"
        return str(value)

    csv = [",".join(columns)] + [",".join(fmt(row[c], c) for c in columns) for row in rows]
    md = (["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
          + ["| " + " | ".join(fmt(row[c], c) for c in columns) + " |" for row in rows])
    for suffix, lines in ((".csv", csv), (".md", md)):
        write_atomically(os.path.join(out_dir, name + suffix),
                         lambda f, lines=lines: f.write("\n".join(lines) + "\n"))


def save_checkpoint(path, run_settings, result, array_keys):
    """Keep one finished piece of work (a trained method, say) in ``path`` (.npz).

    Stores ``result[k]`` for ``k`` in ``array_keys`` as float arrays, any
    ``distribution*`` entries as their arrays, and ``run_settings``, ``history``,
    ``std_scale`` and ``seconds`` as JSON; written atomically.
    """
    os.makedirs(os.path.dirname(path), exist_ok=True)
    arrays = {key: np.asarray(result[key], dtype=float) for key in array_keys}
    for key in ("distribution", "distribution_recalibrated"):
        if key in result:
            arrays.update({f"{key}__{k}": v for k, v in to_arrays(result[key]).items()})
    meta = {"settings": run_settings, "history": jsonable(result.get("history", {})),
            "std_scale": float(result.get("std_scale", 1.0)),
            "seconds": float(result["seconds"])}
    write_atomically(path, lambda f: np.savez(f, meta=np.asarray(json.dumps(meta)), **arrays),
                     mode="wb")


def load_checkpoint(path, run_settings, array_keys):
    """The result kept in ``path`` if it was made with ``run_settings``; else None.

    An unreadable file is ignored with a warning (the work is then done again).
    """
    if not os.path.exists(path):
        return None
    try:
        with np.load(path, allow_pickle=False) as saved:
            meta = json.loads(str(saved["meta"]))
            missing = [key for key in array_keys if key not in saved.files]
            if missing:  # kept by an older skgal, which stored less
                warnings.warn(f"{path} lacks {', '.join(missing)} (kept by an older "
                              "version?); doing it again", stacklevel=3)
                return None
            arrays = {key: saved[key] for key in array_keys}
            for key in ("distribution", "distribution_recalibrated"):
                stored = {k.split("__", 1)[1]: saved[k] for k in saved.files
                          if k.startswith(f"{key}__")}
                if stored:
                    arrays[key] = from_arrays(stored)
    except (OSError, ValueError, KeyError) as exc:
        warnings.warn(f"ignoring unreadable {path} ({exc}); doing it again", stacklevel=3)
        return None
    if meta["settings"] != jsonable(run_settings):
        return None
    return {"method": run_settings.get("method"), **arrays, "history": meta["history"],
            "std_scale": meta["std_scale"], "seconds": meta["seconds"]}
