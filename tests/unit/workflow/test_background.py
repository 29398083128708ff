"""Producing items ahead of their consumer, in a thread or a forked process."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator

import pytest

from churnradar.errors import InvalidInput
from churnradar.workflow.background import ahead, ahead_in_process

Ahead = Callable[..., Iterator[int]]
WAYS = [pytest.param(ahead, id="thread"), pytest.param(ahead_in_process, id="process")]


def _numbers(count: int, fail_at: int | None = None) -> Iterator[int]:
    for number in range(count):
        if number == fail_at:
            raise InvalidInput("ingest.file.empty", file=f"chunk {number}")
        yield number


@pytest.mark.parametrize("way", WAYS)
class TestAhead:
    def test_yields_every_item_in_order(self, way: Ahead) -> None:
        assert list(way(_numbers(50), depth=2)) == list(range(50))

    def test_an_error_while_producing_is_raised_to_the_consumer(self, way: Ahead) -> None:
        seen: list[int] = []

        with pytest.raises(InvalidInput) as raised:
            seen.extend(way(_numbers(10, fail_at=4)))

        assert seen == [0, 1, 2, 3]
        assert raised.value.params == {"file": "chunk 4"}
        assert "chunk 4" in raised.value.render("en")

    def test_a_consumer_that_stops_early_stops_the_producer(self, way: Ahead) -> None:
        items = way(_numbers(10_000), depth=2)

        first = [next(items), next(items)]
        items.close()  # as when the import fails while writing

        assert first == [0, 1]


def test_an_item_that_cannot_travel_is_not_silently_lost() -> None:
    unpicklable = threading.Lock()

    with pytest.raises(ChildProcessError, match="lost"):
        list(ahead_in_process(iter([1, unpicklable, 3])))


def test_items_are_produced_in_another_process() -> None:
    def pids() -> Iterator[int]:
        yield os.getpid()

    assert list(ahead_in_process(pids())) != [os.getpid()]
