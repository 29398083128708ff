"""SeenRows: rows of a file that repeat an earlier row's key, inside a chunk and across chunks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnradar.ingest.duplicates import SeenRows, hash_values


def hashes(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.uint64)


def rows(*numbers: int) -> np.ndarray:
    return np.array(numbers, dtype=np.int64)


class TestSeenRowsCheck:
    def test_a_first_chunk_without_repeats_repeats_nothing(self) -> None:
        repeated, same, earlier = SeenRows().check(hashes(5, 3, 7), hashes(1, 2, 3), rows(2, 3, 4))

        assert repeated.tolist() == [False, False, False]
        assert same.tolist() == [False, False, False]
        assert earlier.tolist() == [0, 0, 0]

    def test_repeats_inside_a_chunk_point_at_the_first_row_of_the_key(self) -> None:
        # key 5 on rows 2, 4 and 5: row 4 repeats row 2 exactly, row 5 changes its content
        repeated, same, earlier = SeenRows().check(
            hashes(5, 3, 5, 5, 7), hashes(1, 2, 1, 9, 4), rows(2, 3, 4, 5, 6)
        )

        assert repeated.tolist() == [False, False, True, True, False]
        assert same.tolist() == [False, False, True, False, False]
        assert earlier.tolist() == [0, 0, 2, 2, 0]

    def test_repeats_across_chunks_point_at_the_row_of_the_earlier_chunk(self) -> None:
        seen = SeenRows()
        seen.check(hashes(5, 3), hashes(1, 2), rows(2, 3))

        repeated, same, earlier = seen.check(hashes(9, 3, 5), hashes(7, 2, 8), rows(10, 11, 12))

        assert repeated.tolist() == [False, True, True]
        assert same.tolist() == [False, True, False]
        assert earlier.tolist() == [0, 3, 2]

    def test_a_key_repeated_in_a_later_chunk_and_again_inside_it_names_the_first_row(
        self,
    ) -> None:
        seen = SeenRows()
        seen.check(hashes(5), hashes(1), rows(2))

        _, same, earlier = seen.check(hashes(5, 5), hashes(1, 4), rows(20, 21))

        assert earlier.tolist() == [2, 2]
        assert same.tolist() == [True, False]

    def test_remembers_the_new_keys_of_each_chunk(self) -> None:
        seen = SeenRows()
        seen.check(hashes(5), hashes(1), rows(2))
        seen.check(hashes(8, 8), hashes(1, 1), rows(3, 4))

        repeated, _, earlier = seen.check(hashes(8, 5, 6), hashes(1, 1, 1), rows(5, 6, 7))

        assert repeated.tolist() == [True, True, False]
        assert earlier.tolist() == [3, 2, 0]

    def test_works_on_many_rows_as_on_few(self) -> None:
        generator = np.random.default_rng(20250630)
        keys = generator.integers(0, 2_000, size=5_000).astype(np.uint64)
        contents = keys * np.uint64(7)  # the same content for the same key
        numbers = np.arange(2, 5_002)
        seen = SeenRows()

        first_half = seen.check(keys[:2_500], contents[:2_500], numbers[:2_500])
        second_half = seen.check(keys[2_500:], contents[2_500:], numbers[2_500:])

        repeated = np.concatenate([first_half[0], second_half[0]])
        earlier = np.concatenate([first_half[2], second_half[2]])
        first_row = pd.Series(numbers).groupby(keys).transform("first").to_numpy()
        assert (repeated == (first_row != numbers)).all()
        assert (earlier == np.where(repeated, first_row, 0)).all()
        assert repeated.sum() == len(keys) - len(np.unique(keys))


class TestHashValues:
    def test_ignores_the_index_and_not_the_column_order(self) -> None:
        frame = pd.DataFrame({"a": ["SO-1", "SO-2"], "b": ["100", "200"]})

        moved = hash_values(frame.set_axis([7, 9]))
        swapped = hash_values(frame[["b", "a"]])

        assert hash_values(frame).tolist() == moved.tolist()
        assert hash_values(frame).tolist() != swapped.tolist()

    def test_differs_for_rows_that_differ_in_one_cell(self) -> None:
        frame = pd.DataFrame({"a": ["SO-1", "SO-1"], "b": ["100", "100.0"]})

        first, second = hash_values(frame)

        assert first != second
