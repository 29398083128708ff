"""Producing the items of an iterator a few ahead of their consumer: in a forked process
(:func:`ahead_in_process`), or in a thread where processes cannot be forked (:func:`ahead`).

An import reads and validates the next chunk of a file while this chunk is written to the
database; in two processes the two run on two cores (in threads, most of the work would wait
for the GIL). The queue bounds how many chunks wait in memory.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from queue import Empty, Full, Queue
from typing import Any, Generic, TypeVar

T = TypeVar("T")
_POLL_SECONDS = 0.1


@dataclass(frozen=True)
class _Failed:
    error: BaseException


@dataclass(frozen=True)
class _Done:
    count: int = 0  # items sent: a queue drops an item it cannot pickle, and says nothing


class _Producer(Generic[T]):
    def __init__(self, items: Iterator[T], depth: int) -> None:
        self.items = items
        self.queue: Queue[T | _Failed | _Done] = Queue(maxsize=depth)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="import-reader", daemon=True)

    def _run(self) -> None:
        try:
            for item in self.items:
                if not self._put(item):
                    return
        except BaseException as error:  # handed to the consumer, which raises it
            self._put(_Failed(error))
        else:
            self._put(_Done())

    def _put(self, item: T | _Failed | _Done) -> bool:
        """Wait for room, unless the consumer has gone away."""
        while not self.stopped.is_set():
            try:
                self.queue.put(item, timeout=_POLL_SECONDS)
            except Full:
                continue
            return True
        return False

    def stop(self) -> None:
        self.stopped.set()
        while self.thread.is_alive():
            try:
                self.queue.get_nowait()
            except Empty:
                self.thread.join(_POLL_SECONDS)


def ahead(items: Iterator[T], *, depth: int = 2) -> Iterator[T]:
    """``items``, produced in a background thread at most ``depth`` ahead; an exception raised
    while producing is raised here, in the consumer."""
    producer = _Producer(items, depth)
    producer.thread.start()
    try:
        while True:
            item = producer.queue.get()
            if isinstance(item, _Done):
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        producer.stop()


def ahead_in_process(items: Iterator[T], *, depth: int = 2) -> Iterator[T]:
    """``items`` produced in a forked process, at most ``depth`` ahead: the reading and
    validation of a file run on a second core while this process writes to the database
    (threads would share one core: the GIL). Items travel pickled. Where processes cannot be
    forked, a thread produces them instead (:func:`ahead`).

    Neither side outlives the other: the producer stops when its parent is gone (killed),
    and the consumer raises if the producer dies without a word.
    """
    if "fork" not in multiprocessing.get_all_start_methods():
        yield from ahead(items, depth=depth)
        return
    context = multiprocessing.get_context("fork")
    queue: Any = context.Queue(maxsize=depth)
    process = context.Process(
        target=_produce, args=(items, queue, os.getpid()), name="import-reader", daemon=True
    )
    process.start()
    received = 0
    try:
        while True:
            try:
                item = queue.get(timeout=_POLL_SECONDS)
            except Empty:
                if not process.is_alive() and queue.empty():
                    raise ChildProcessError(
                        f"the reading process ended with exit code {process.exitcode}"
                    ) from None
                continue
            if isinstance(item, _Done):
                if item.count != received:
                    raise ChildProcessError(f"{item.count - received} items were lost in transit")
                return
            if isinstance(item, _Failed):
                raise item.error
            received += 1
            yield item
    finally:
        if process.is_alive():
            process.terminate()
        process.join()
        queue.close()


def _produce(items: Iterator[Any], queue: Any, parent: int) -> None:
    """The forked process: every item, then the end, or the error that stopped it."""

    def put(item: Any) -> bool:
        while os.getppid() == parent:  # an orphan (the import was killed) stops
            try:
                queue.put(item, timeout=_POLL_SECONDS)
            except Full:
                continue
            return True
        return False

    sent = 0
    try:
        for item in items:
            if not put(item):
                break
            sent += 1
        else:
            put(_Done(sent))
    except BaseException as error:  # handed to the consumer, which raises it
        put(_Failed(error))
    if os.getppid() != parent:
        # orphaned: leave at once, without flushing the queue to a reader that is gone (and
        # so without holding the copies of the parent's database sockets any longer)
        os._exit(1)
    queue.close()
    queue.join_thread()
