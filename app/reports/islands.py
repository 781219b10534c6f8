"""Gaps and islands of sets of run numbers held as 64-bit words (bit i of word w: run 64w + i).

Islands, gaps and differences are word-wise integer operations: a million runs cost some
fifteen thousand words, and one stray run 99999999 costs one word, because nothing between
the runs is ever enumerated (the legacy report built every integer between min and max).
An island starts at a set bit whose lower neighbour is clear and ends at one whose upper
neighbour is clear; gaps are the spaces between consecutive islands.
"""

from collections.abc import Iterator
from itertools import islice

from pydantic import BaseModel

WORD_BITS = 64
_SHIFT = 6
_LOW = WORD_BITS - 1
_FULL = (1 << WORD_BITS) - 1


class RunRange(BaseModel):
    """Consecutive run numbers `first`…`last` (equal for a single run)."""

    first: int
    last: int


class Extent(BaseModel):
    """How many runs a set holds and its lowest and highest (None when empty)."""

    count: int
    first: int | None = None
    last: int | None = None


class Listing(BaseModel):
    """The first numbers of a set (ascending) and how many it holds in all."""

    numbers: list[int]
    total: int


Holes = tuple["RunBits", "RunBits", int]


class RunBits:
    """An immutable set of run numbers: word index → its 64 bits (no empty words). Derived
    sets (sorted words, island bounds, the cover by a skip set) are kept once computed: the
    overview asks a source for its gaps as numbers and as ranges."""

    __slots__ = ("_bounds", "_covered", "_order", "_words")

    def __init__(self, words: dict[int, int]) -> None:
        """`words` may hold signed 64-bit values (as stored) and empty words."""
        self._set_words({word: bits & _FULL for word, bits in words.items() if bits & _FULL})

    def _set_words(self, words: dict[int, int]) -> None:
        self._words = words
        self._order: list[int] | None = None
        self._bounds: tuple[RunBits, RunBits] | None = None
        self._covered: tuple[RunBits, Holes] | None = None

    @classmethod
    def _of(cls, words: dict[int, int]) -> "RunBits":
        """A set from words already unsigned and non-empty (no second pass over them)."""
        made = cls.__new__(cls)
        made._set_words(words)
        return made

    def _sorted(self) -> list[int]:
        if self._order is None:
            self._order = sorted(self._words)
        return self._order

    def __contains__(self, run: int) -> bool:
        return bool(self._words.get(run >> _SHIFT, 0) >> (run & _LOW) & 1)

    def __or__(self, other: "RunBits") -> "RunBits":
        larger, smaller = sorted((self._words, other._words), key=len, reverse=True)
        words = dict(larger)
        for word, bits in smaller.items():
            words[word] = words.get(word, 0) | bits
        return RunBits._of(words)

    def __sub__(self, other: "RunBits") -> "RunBits":
        mine, theirs = self._words, other._words
        if len(theirs) >= len(mine):
            return RunBits._of(
                {word: kept for word, bits in mine.items() if (kept := bits & ~theirs.get(word, 0))}
            )
        words = dict(mine)
        for word, bits in theirs.items():
            if word in words:
                if kept := words[word] & ~bits:
                    words[word] = kept
                else:
                    del words[word]
        return RunBits._of(words)

    def within(self, first: int | None = None, last: int | None = None) -> "RunBits":
        """The runs from `first` to `last` (inclusive; None: unbounded)."""
        low = None if first is None else first >> _SHIFT
        high = None if last is None else last >> _SHIFT
        low_mask = _FULL if first is None else (_FULL << (first & _LOW)) & _FULL
        high_mask = _FULL if last is None else (2 << (last & _LOW)) - 1
        words = {}
        for word, bits in self._words.items():
            if (low is not None and word < low) or (high is not None and word > high):
                continue
            kept = (
                bits & (low_mask if word == low else _FULL) & (high_mask if word == high else _FULL)
            )
            if kept:
                words[word] = kept
        return RunBits._of(words)

    def count(self) -> int:
        """How many runs the set holds."""
        return sum(bits.bit_count() for bits in self._words.values())

    def extent(self) -> Extent:
        """Count, lowest and highest run."""
        if not self._words:
            return Extent(count=0)
        order = self._sorted()
        low, high = self._words[order[0]], self._words[order[-1]]
        return Extent(
            count=self.count(),
            first=(order[0] << _SHIFT) + (low & -low).bit_length() - 1,
            last=(order[-1] << _SHIFT) + high.bit_length() - 1,
        )

    def ascending(self) -> Iterator[int]:
        """The runs, lowest first."""
        for word in self._sorted():
            bits, base = self._words[word], word << _SHIFT
            while bits:
                lowest = bits & -bits
                yield base + lowest.bit_length() - 1
                bits ^= lowest

    def descending(self) -> Iterator[int]:
        """The runs, highest first."""
        for word in reversed(self._sorted()):
            bits, base = self._words[word], word << _SHIFT
            while bits:
                top = bits.bit_length() - 1
                yield base + top
                bits ^= 1 << top

    def listing(self, limit: int) -> Listing:
        """The first `limit` runs and how many there are."""
        return Listing(numbers=list(islice(self.ascending(), limit)), total=self.count())

    def _island_bounds(self) -> tuple["RunBits", "RunBits"]:
        """The first and the last run of every island, as two sets."""
        if self._bounds is None:
            words, starts, ends = self._words, {}, {}
            for word, bits in words.items():
                if first := bits & ~(((bits << 1) | (words.get(word - 1, 0) >> _LOW)) & _FULL):
                    starts[word] = first
                if last := bits & ~((bits >> 1) | ((words.get(word + 1, 0) & 1) << _LOW)):
                    ends[word] = last
            self._bounds = RunBits._of(starts), RunBits._of(ends)
        return self._bounds

    def island_edges(self, *, edge: int) -> tuple[list[RunRange], int]:
        """The first and last `edge` islands (all of them when there are at most 2 × `edge`),
        ascending, and the number of islands."""
        starts, ends = self._island_bounds()
        total = starts.count()
        head = zip(starts.ascending(), ends.ascending(), strict=True)
        if total <= 2 * edge:
            return [RunRange(first=lo, last=hi) for lo, hi in head], total
        tail = islice(zip(starts.descending(), ends.descending(), strict=True), edge)
        ranges = [*islice(head, edge), *reversed(list(tail))]
        return [RunRange(first=lo, last=hi) for lo, hi in ranges], total

    def _holes(self, skip: "RunBits") -> Holes:
        """Island starts and ends of the set with `skip`'s runs inside its span, and how many
        numbers of the span are in neither."""
        if self._covered is not None and self._covered[0] is skip:
            return self._covered[1]
        span = self.extent()
        holes: Holes = (RunBits._of({}), RunBits._of({}), 0)
        if span.first is not None and span.last is not None:
            cover = self | skip.within(span.first, span.last)
            holes = (*cover._island_bounds(), span.last - span.first + 1 - cover.count())
        self._covered = (skip, holes)
        return holes

    def gaps(self, *, skip: "RunBits", limit: int) -> Listing:
        """Numbers between the lowest and highest run missing from the set and from `skip`:
        the first `limit` individually, and how many there are."""
        starts, ends, total = self._holes(skip)
        numbers: list[int] = []
        after = islice(starts.ascending(), 1, None)
        for end, start in zip(ends.ascending(), after, strict=False):
            numbers.extend(range(end + 1, min(start, end + 1 + limit - len(numbers))))
            if len(numbers) >= limit:
                break
        return Listing(numbers=numbers, total=total)

    def gap_ranges(self, *, skip: "RunBits", edge: int) -> tuple[list[RunRange], int]:
        """The first and last `edge` holes between the lowest and highest run, not counting
        `skip`'s runs as holes (all when at most 2 × `edge`), ascending, and how many."""
        starts, ends, _ = self._holes(skip)
        total = max(0, starts.count() - 1)
        head = zip(ends.ascending(), islice(starts.ascending(), 1, None), strict=False)
        holes = list(islice(head, edge if total > 2 * edge else None))
        if total > 2 * edge:
            tail = zip(islice(ends.descending(), 1, None), starts.descending(), strict=False)
            holes += reversed(list(islice(tail, edge)))
        return [RunRange(first=end + 1, last=start - 1) for end, start in holes], total

    def bucket_counts(self, *, start: int, width: int) -> dict[int, int]:
        """Runs per bucket k (runs start + k × width … start + (k + 1) × width − 1), for
        runs at or above `start`; a word straddling buckets is split with masks."""
        counts: dict[int, int] = {}
        for word, bits in self._words.items():
            base = word << _SHIFT
            low, high = (base - start) // width, (base + _LOW - start) // width
            for bucket in range(max(low, 0), high + 1):
                if low == high:
                    part = bits
                else:
                    offset = start + bucket * width - base
                    bottom, top = max(offset, 0), min(offset + width - 1, _LOW)
                    part = bits >> bottom & ((2 << (top - bottom)) - 1)
                if part:
                    counts[bucket] = counts.get(bucket, 0) + part.bit_count()
        return counts

    def island_end(self, run: int) -> int:
        """The last run of the island holding `run` (which must be in the set)."""
        word = run >> _SHIFT
        bits = self._words.get(word, 0) | ((1 << (run & _LOW)) - 1)
        while bits == _FULL:
            word += 1
            bits = self._words.get(word, 0)
        first_clear = ~bits & (bits + 1)
        return (word << _SHIFT) + first_clear.bit_length() - 2
