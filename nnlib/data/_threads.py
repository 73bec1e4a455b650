"""``map`` (optionally on a thread pool, order kept) and ``prefetch``.

Both own threads for the length of one pass and release them when the pass
ends, fails or is abandoned: the generator's ``finally`` (run when the consumer
breaks out of its loop and drops the iterator, or calls ``close()``) sets a stop
event / shuts the pool down and joins the threads before returning. Errors
raised in a worker are handed to the consumer and raised there.
"""

import collections
import os
import queue
import threading
from concurrent.futures import ThreadPoolExecutor

from . import _nest
from ._basic import call, check_function, function_error
from ._core import as_iterator, close
from ._indexed import check_count
from .dataset import Dataset

# numpy releases the GIL in most array work, so a few threads help; more than
# the cores only add switching.
_AUTO_WORKERS = max(1, min(8, os.cpu_count() or 1))


def _workers(value, where):
    if value is None:
        return None
    if value == -1:  # AUTOTUNE
        return _AUTO_WORKERS
    return check_count(value, where, 1)


class Map(Dataset):
    def __init__(self, dataset, fn, num_parallel_calls):
        self._inputs = (dataset,)
        self._fn = check_function(fn, "map")
        self._workers = _workers(num_parallel_calls, "map: num_parallel_calls")

    def _open(self, ctx):
        iterator = as_iterator(self._inputs[0]._open(ctx))
        if self._workers is None or ctx.peek:
            return self._serial(iterator)
        return self._parallel(iterator, self._workers)

    def _apply(self, element, index):
        try:
            return _nest.normalize(call(self._fn, element), "map")
        except Exception as err:
            raise function_error("map", self._fn, index, err) from err

    def _serial(self, iterator):
        try:
            for index, element in enumerate(iterator):
                yield self._apply(element, index)
        finally:
            close(iterator)

    def _parallel(self, iterator, workers):
        pending = collections.deque()
        pool = ThreadPoolExecutor(workers, thread_name_prefix="nnlib.data.map")
        try:
            for index, element in enumerate(iterator):
                pending.append(pool.submit(self._apply, element, index))
                if len(pending) > 2 * workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=True)
            close(iterator)

    def _cardinality(self):
        return self._inputs[0]._cardinality()

    def _spec(self, peek):
        return self._peek() if peek else None


_DONE = object()


class _Raised:
    __slots__ = ("error",)

    def __init__(self, error):
        self.error = error


class Prefetch(Dataset):
    def __init__(self, dataset, buffer_size):
        self._inputs = (dataset,)
        if buffer_size == -1:  # AUTOTUNE: enough to hide one slow step
            buffer_size = 2
        self._size = check_count(buffer_size, "prefetch: buffer_size", 1)

    def _open(self, ctx):
        source = self._inputs[0]._open(ctx)
        if ctx.peek:
            return source
        return _prefetch(as_iterator(source), self._size)

    def _cardinality(self):
        return self._inputs[0]._cardinality()


def _prefetch(iterator, size):
    """Yields what a background thread reads ahead from ``iterator``."""
    ready = queue.Queue(size)
    stop = threading.Event()
    thread = threading.Thread(
        target=_produce,
        args=(iterator, ready, stop),
        name="nnlib.data.prefetch",
        daemon=True,  # never keeps the interpreter alive
    )
    thread.start()
    try:
        while True:
            item = ready.get()
            if item is _DONE:
                return
            if type(item) is _Raised:
                raise item.error
            yield item
    finally:
        stop.set()
        try:  # free a slot, so a producer blocked on a full queue wakes at once
            ready.get_nowait()
        except queue.Empty:
            pass
        thread.join()


def _produce(iterator, ready, stop):
    try:
        while not stop.is_set():
            element = next(iterator, _DONE)
            if not _put(ready, element, stop) or element is _DONE:
                return
    except BaseException as err:  # noqa: BLE001 (handed to the consumer, raised there)
        _put(ready, _Raised(err), stop)
    finally:
        close(iterator)


def _put(ready, item, stop):
    while not stop.is_set():
        try:
            ready.put(item, timeout=0.05)
            return True
        except queue.Full:
            pass
    return False
