"""Training sources: new galaxies for every batch, rendered on demand.

A source hands the regressor one batch at a time, ``batch(key, batch_size)``, where
``key = (seed, epoch, index)`` fixes every random draw of that batch. A batch is
therefore the same whichever thread renders it and in whatever order, so any number
of rendering workers gives the same training run. The regressor wraps a source in a
Keras ``PyDataset`` (``training_source=``); its ``fit(X, y)`` then takes ``X, y`` as the
fixed validation set.

Only numpy and the simulator here: no Keras.
"""

import numbers
import pickle
import queue
import struct
import subprocess
import sys
import threading
import traceback

import numpy as np
from sklearn.base import clone

from ._simulator import SersicGalaxySimulator
from ._table import ALL_COLUMNS, read_parameter_table

__all__ = ["FreshSimulations", "BatchProcesses"]


def check_targets(targets, allowed, where):
    """``targets`` as a tuple of names, each one of ``allowed`` (the columns of ``where``)."""
    targets = (targets,) if isinstance(targets, str) else tuple(targets)
    if not targets or any(t not in allowed for t in targets):
        raise ValueError(f"targets must name columns of {where} {list(allowed)}; got "
                         f"{targets!r}")
    return targets


def reseeded(model, seed):
    """A clone of ``model`` in which every step with a ``random_state`` has a new seed.

    ``model`` is an estimator or a Pipeline; step ``j`` gets ``seed + j``, so a batch's
    noise and projections are new for every batch and fixed by its key.
    """
    model = clone(model)
    steps = getattr(model, "steps", None)
    if steps:
        model.set_params(**{f"{name}__random_state": int(seed) + j
                            for j, (name, step) in enumerate(steps)
                            if step is not None and step != "passthrough"
                            and "random_state" in step.get_params(deep=False)})
    elif "random_state" in model.get_params(deep=False):
        model.set_params(random_state=int(seed))
    return model


def _first_step(simulator):
    steps = getattr(simulator, "steps", None)
    return steps[0][1] if steps else simulator


class FreshSimulations:
    """New galaxies for every training batch: the simulator's prior, rendered on demand.

    Parameters
    ----------
    simulator : SersicGalaxySimulator or Pipeline
        What makes the network's input from a parameter table: a simulator, or a
        pipeline that starts with one and adds the observation (PSF, noise,
        photometry) and the projection. Its first step's ``sample`` draws the galaxies.
        Every step with a ``random_state`` gets a new seed for each batch, so each
        batch has new noise and new projections.
    targets : sequence of str, default=("q",)
        Columns of the parameter table the network learns (``"q"``, and
        ``"inclination"`` when the simulator draws one per galaxy, say).
    steps_per_epoch : int, default=200
        Batches in one epoch.
    inclination_choices : sequence of float, default=None
        Draw each galaxy's inclination (degrees) uniformly from these values and
        render that one view alone: the thesis's "single random projection" without
        rendering the views no one sees (a simulator with four fixed inclinations and a
        random :class:`ProjectionSelector` renders four and keeps one). The simulator
        is then used with one inclination per galaxy, so its own ``inclinations`` are
        ignored, and ``"inclination"`` can be a target.

    Examples
    --------
    >>> from skgal import FreshSimulations, SersicGalaxySimulator
    >>> source = FreshSimulations(SersicGalaxySimulator(image_size=16,
    ...                                                 inclinations="isotropic"),
    ...                           targets=("q", "inclination"), steps_per_epoch=10)
    >>> X, y = source.batch((0, 0, 3), batch_size=8)
    >>> X.shape, y.shape
    ((8, 16, 16, 1), (8, 2))
    >>> bool((source.batch((0, 0, 3), 8)[0] == X).all())   # the key fixes the batch
    True
    """

    def __init__(self, simulator, *, targets=("q",), steps_per_epoch=200,
                 inclination_choices=None):
        self.simulator = simulator
        self.targets = targets
        self.steps_per_epoch = steps_per_epoch
        self.inclination_choices = inclination_choices
        self._check()

    def _check(self):
        first = _first_step(self.simulator)
        if not isinstance(first, SersicGalaxySimulator):
            raise TypeError(f"simulator must be a SersicGalaxySimulator or a Pipeline that "
                            f"starts with one; got {type(first).__name__}")
        targets = check_targets(self.targets, tuple(c for c in ALL_COLUMNS if c != "seed"),
                                "the parameter table")
        if self.inclination_choices is not None:
            choices = np.asarray(self.inclination_choices, dtype=float).reshape(-1)
            if choices.size == 0 or np.any((choices < 0) | (choices > 90)):
                raise ValueError(f"inclination_choices must be angles in [0, 90] degrees; "
                                 f"got {self.inclination_choices!r}")
            first = clone(first).set_params(inclinations="uniform")
        drawn = first.table_columns()
        missing = [t for t in targets if t not in drawn]
        if missing:
            raise ValueError(f"the simulator does not draw {missing} (it draws "
                             f"{list(drawn)}); for the inclination, use "
                             f"inclinations='uniform' or 'isotropic'")
        if not (isinstance(self.steps_per_epoch, numbers.Integral)
                and self.steps_per_epoch >= 1):
            raise ValueError(f"steps_per_epoch must be an integer >= 1; got "
                             f"{self.steps_per_epoch!r}")
        return first, targets

    @property
    def n_targets(self):
        return len(self._check()[1])

    def target_bounds(self):
        """The prior's support of each target, or None where it has none."""
        first, targets = self._check()
        _, priors = first._check_settings()
        bounds = {"q": priors["flattening_range"], "inclination": (0.0, 90.0),
                  "position_angle": (0.0, 180.0)}
        return [tuple(float(b) for b in bounds[t]) if t in bounds else None for t in targets]

    def batch(self, key, batch_size):
        """The batch fixed by ``key = (seed, epoch, index)``: images and targets.

        Parameters
        ----------
        key : tuple of int
            Any tuple of non-negative integers; the same key gives the same batch.
        batch_size : int
            Galaxies in the batch.

        Returns
        -------
        X : ndarray of float32, the network's input for ``batch_size`` galaxies
        y : ndarray of float32, shape (batch_size,) for one target, else (batch_size, d)
        """
        first, targets = self._check()
        seeds = np.random.SeedSequence([int(k) for k in key]).generate_state(3)
        # a new seed for every step that draws (noise, projections)
        model = reseeded(self.simulator, seeds[1])
        if self.inclination_choices is not None:  # one view per galaxy, drawn below
            _first_step(model).set_params(inclinations="uniform")
        table, _ = _first_step(model).sample(int(batch_size), random_state=int(seeds[0]))
        if self.inclination_choices is not None:
            choices = np.asarray(self.inclination_choices, dtype=float).reshape(-1)
            drawn = np.random.RandomState(seeds[2]).randint(choices.size, size=len(table))
            if hasattr(table, "columns"):
                table["inclination"] = choices[drawn]
            else:
                table[:, 4] = choices[drawn]
        X = np.asarray(model.fit_transform(table), dtype=np.float32)
        columns = read_parameter_table(table).columns
        y = np.column_stack([columns[t] for t in targets]).astype(np.float32)
        return X, (y[:, 0] if len(targets) == 1 else y)

    def n_batches(self, batch_size):
        return int(self.steps_per_epoch)

    def __repr__(self):
        return (f"FreshSimulations({self.simulator!r}, targets={self.targets!r}, "
                f"steps_per_epoch={self.steps_per_epoch}, "
                f"inclination_choices={self.inclination_choices!r})")


def _send(stream, message):
    """One message on a pipe: its pickle's length (8 bytes), then the pickle."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack("<Q", len(data)))
    stream.write(data)
    stream.flush()


def _receive(stream):
    """The next message on a pipe, or EOFError when the other end has closed it."""
    head = stream.read(8)
    if len(head) < 8:
        raise EOFError("the pipe closed")
    (size,) = struct.unpack("<Q", head)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the pipe closed")
    return pickle.loads(data)


def _error_reply(exc):
    """("error", exception, traceback text), the exception one that survives the trip
    (one that does not pickle, or does not unpickle, as a RuntimeError naming it)."""
    text = traceback.format_exc()
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        exc = RuntimeError(f"{type(exc).__name__}: {exc}")
    return ("error", exc, text)


#: A rendering process's first lines, run before anything is imported: the pipe to the
#: parent is a copy of the standard output, which then goes to standard error (so that
#: nothing printed, not even while skgal is imported, lands in the pipe); Ctrl-C is the
#: parent's to handle; and the parent's sys.path, its first message, is set before skgal
#: is imported from it.
_BOOTSTRAP = """\
import os, pickle, signal, struct, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
out = os.fdopen(os.dup(1), "wb")
try:
    os.dup2(2, 1)
except OSError:  # no standard error (pythonw): printing goes nowhere
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
sys.stdout = sys.stderr
inp = sys.stdin.buffer
head = inp.read(8)
if len(head) == 8:
    sys.path[:] = pickle.loads(inp.read(struct.unpack("<Q", head)[0]))
    from skgal._sources import _serve
    _serve(inp, out)
"""


def _serve(inp, out):
    """A rendering process's loop, after :data:`_BOOTSTRAP`: the pickled source, then one
    ``(key, batch_size)`` after another, each answered with ``("ok", batch)`` or
    :func:`_error_reply`, until the input closes."""
    try:
        source = pickle.loads(_receive(inp))
    except EOFError:
        return
    except BaseException as exc:  # e.g. a class the process cannot import
        _send(out, _error_reply(exc))
        return
    _send(out, ("ok", None))
    while True:
        try:
            key, batch_size = _receive(inp)
        except EOFError:
            return
        try:
            reply = ("ok", source.batch(key, batch_size))
        except BaseException as exc:
            reply = _error_reply(exc)
        try:
            _send(out, reply)
        except BrokenPipeError:
            return
        except Exception as exc:  # the batch did not pickle
            _send(out, _error_reply(exc))


def _remote(reply):
    """The exception of an error reply, with the process's traceback as a note."""
    _, exc, text = reply
    exc.add_note(f"raised in the rendering process:\n{text}")
    return exc


class _Worker:
    """One rendering process and its two pipes. A worker whose reply was not read to the
    end (an interrupted ``ask``) is killed, never asked again: its reply would answer
    the next question."""

    def __init__(self, payload):
        self.process = subprocess.Popen([sys.executable, "-c", _BOOTSTRAP],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.ready = False
        try:
            _send(self.process.stdin, list(sys.path))
            _send(self.process.stdin, payload)
        except OSError:
            pass  # it died at once: start() says so

    def _died(self):
        try:
            status = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            status = "none yet"
        return RuntimeError(f"a rendering process died (exit status {status}; its error, "
                            f"if any, is on standard error)")

    def start(self):
        """Wait for the process to say it has the source."""
        try:
            reply = _receive(self.process.stdout)
        except (OSError, EOFError):
            raise self._died() from None
        if reply[0] == "error":
            raise TypeError(f"a rendering process could not unpickle the source "
                            f"({reply[1]!r}); its classes must be importable from a module, "
                            f"not defined in the script") from _remote(reply)
        self.ready = True

    def ask(self, message):
        """The process's whole reply to ``message``: ("ok", value) or :func:`_error_reply`'s;
        a RuntimeError if the process died."""
        if not self.ready:
            self.start()
        try:
            _send(self.process.stdin, message)
            return _receive(self.process.stdout)
        except (OSError, EOFError):  # a broken pipe (EINVAL on Windows), or closed
            raise self._died() from None

    def kill(self):
        self.process.kill()
        self.close()
        self.process.wait()

    def close(self):
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def wait(self):
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class BatchProcesses:
    """A source's batches rendered in worker processes: ``batch(key, batch_size)`` as
    the source's own, from any number of threads at once, each call waiting on one
    process.

    A render's Python (its plans and checks, the noise's generators, scikit-learn's
    validation) holds the interpreter's lock, and on two cores two processes rendered
    the ``"ground"`` conditions (to the noise) 1.3-1.7x as fast as two threads
    (benchmarks/bench_fresh.py ``--kinds threads processes``). Each process is a new
    Python interpreter that takes the caller's ``sys.path`` and imports skgal (about
    1.5 s to start), not the calling script, so no ``if __name__ == "__main__":`` guard
    is needed; it gets a pickled copy of the source, whose classes it must be able to
    import (a source defined in the script itself cannot be sent). A batch is a
    function of its key alone, so the batches are the ones the source would give. An
    error in a process is raised in the caller, with the process's traceback as a note.
    A call interrupted while it waits (Ctrl-C) kills its process and starts another.
    Use it as a context manager, or call :meth:`close`.

    Parameters
    ----------
    source : FreshSimulations
        Anything with ``batch(key, batch_size)`` and ``n_batches(batch_size)`` that
        pickles.
    processes : int
        Worker processes, at least 1.

    Raises
    ------
    TypeError
        The source does not pickle, or a process cannot unpickle it.
    """

    def __init__(self, source, processes):
        if not (isinstance(processes, numbers.Integral) and processes >= 1):
            raise ValueError(f"processes must be an integer >= 1; got {processes!r}")
        try:
            self._payload = pickle.dumps(source, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            raise TypeError(f"the source must pickle to be sent to rendering processes: "
                            f"{exc}") from exc
        self.source = source
        self._idle = queue.SimpleQueue()
        self._workers = []
        self._lock = threading.Lock()
        self._closed = False
        try:
            for _ in range(int(processes)):  # they start together; then each says ready
                self._workers.append(_Worker(self._payload))
            for worker in self._workers:
                worker.start()
                self._idle.put(worker)
        except BaseException:
            self.close()
            raise

    def batch(self, key, batch_size):
        """The source's batch ``key``, rendered by the next idle process."""
        if self._closed:
            raise RuntimeError("these BatchProcesses are closed")
        worker = self._idle.get()
        if self._closed:  # closed while this call waited for a process
            self._idle.put(worker)
            raise RuntimeError("these BatchProcesses are closed")
        try:
            reply = worker.ask((tuple(int(k) for k in key), int(batch_size)))
        except BaseException:
            # interrupted (its reply may be left in the pipe) or dead: another in its place
            try:
                spare = worker if self._closed else self._replace(worker)
            except Exception:  # none could start: the next call on it says why
                spare = worker
            self._idle.put(spare)
            raise
        self._idle.put(worker)
        if reply[0] == "error":
            raise _remote(reply)
        return reply[1]

    def _replace(self, worker):
        worker.kill()
        fresh = _Worker(self._payload)
        with self._lock:
            self._workers = [fresh if w is worker else w for w in self._workers]
        return fresh

    def n_batches(self, batch_size):
        return self.source.n_batches(batch_size)

    def close(self):
        """Stop the processes: each is told to finish, then waited for."""
        self._closed = True
        with getattr(self, "_lock", threading.Lock()):
            workers, self._workers = getattr(self, "_workers", []), []
        for worker in workers:
            worker.close()
        for worker in workers:
            worker.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):  # processes left running by a caller who did not close them
        try:
            self.close()
        except Exception:
            pass
