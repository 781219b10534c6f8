"""Nesting depth: a document nested absurdly deep is refused with a position, not a crash."""

import pytest

from app.fhicl.errors import FhiclError
from app.fhicl.parser import MAX_NESTING, parse
from app.stores.artdaqdb.convert import convert_source


def nested(depth: int, opener: str = "[", closer: str = "]") -> str:
    return "a: " + opener * depth + "1" + closer * depth + "\n"


def test_the_limit_itself_parses_and_converts() -> None:
    parse(nested(MAX_NESTING), filename="ok.fcl")
    assert convert_source(nested(MAX_NESTING).encode(), "1/ok.fcl").parse_error is None


@pytest.mark.parametrize(("opener", "closer"), [("[", "]"), ("{b: ", "}")])
def test_deeper_is_refused_with_file_line_and_column(opener: str, closer: str) -> None:
    with pytest.raises(FhiclError) as info:
        parse(nested(3000, opener, closer), filename="deep.fcl")
    assert str(info.value).startswith("deep.fcl:1:")
    assert "nested more than" in str(info.value)
    conversion = convert_source(nested(3000, opener, closer).encode(), "7/deep.fcl")
    assert conversion.parse_error is not None and conversion.parse_error.startswith("7/deep.fcl:1:")
