"""trace.record's records take their fields as a dataclass's ``__init__`` does."""

from __future__ import annotations

import pytest

from pybpf.trace.record import LIST, Record, field


class Point(Record):
    x: int
    y: int = 2
    tags: list[str] = LIST
    seen: int = field(default=5, init=False)


def test_positional_keyword_and_default_fields() -> None:
    p = Point(1)
    assert (p.x, p.y, p.tags, p.seen) == (1, 2, [], 5)
    assert Point(1).tags is not p.tags          # a new list for each record
    assert (Point(1, 3, ["a"]).y, Point(1, 3, ["a"]).tags) == (3, ["a"])
    q = Point(x=4, tags=["b"])
    assert (q.x, q.y, q.tags) == (4, 2, ["b"])
    assert Point(1) == Point(1, 2) and Point(1) != Point(2)


@pytest.mark.parametrize(("args", "kwargs"), [
    ((), {}), ((1, 2, [], 4), {}), ((1,), {"x": 2}), ((1,), {"nofield": 3}),
    ((1, 2, []), {"nofield": 1}), ((1, 2, []), {"y": 1}),
])
def test_wrong_arguments_are_refused(args: tuple[object, ...], kwargs: dict[str, object]
                                     ) -> None:
    with pytest.raises(TypeError):
        Point(*args, **kwargs)
