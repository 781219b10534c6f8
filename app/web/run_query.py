"""The runs list's filters as URL query parameters (the API's names, so a page's URL and its
export link select the same runs), read leniently from a GET form where "any" is empty."""

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query
from pydantic import BaseModel, Field, field_validator

from app.models import ErrorKind, Readiness, Stage, State
from app.reports.run_listing import RunFilter
from app.runranges import MAX_RUN, parse_runs

PAGE_SIZES = (50, 100, 250, 500)


class RunQuery(BaseModel):
    """Every filter of `GET /api/runs`, plus the keyset cursor and page size."""

    stage: Stage | None = None
    state: list[State] = []
    error_kind: list[ErrorKind] = []
    q: Annotated[str | None, Field(max_length=200)] = None
    runs: Annotated[str | None, Field(max_length=2000)] = None
    readiness: list[Readiness] = []
    excluded: bool | None = None
    after: Annotated[int | None, Field(ge=0, le=MAX_RUN)] = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 100

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_any(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in value if item != ""]
        return None if value == "" else value

    def run_filter(self) -> RunFilter:
        """The listing filter (RangeSyntaxError when `runs` does not parse)."""
        return RunFilter(
            stage=self.stage,
            states=tuple(self.state),
            error_kinds=tuple(self.error_kind),
            text=self.q or None,
            runs=parse_runs(self.runs) if self.runs else None,
            readiness=tuple(self.readiness),
            excluded=self.excluded,
        )

    def params(self, **changes: Any) -> str:
        """The filters as a query string (with `changes`; None drops a parameter)."""
        values: dict[str, Any] = {
            "stage": self.stage.value if self.stage else None,
            "state": [s.value for s in self.state],
            "error_kind": [k.value for k in self.error_kind],
            "q": self.q,
            "runs": self.runs,
            "readiness": [r.value for r in self.readiness],
            "excluded": None if self.excluded is None else str(self.excluded).lower(),
            "limit": self.limit,
        }
        values.update(changes)
        pairs = [
            (key, item)
            for key, value in values.items()
            for item in (value if isinstance(value, list) else [value])
            if item is not None
        ]
        return urlencode(pairs)


RunQueryParams = Annotated[RunQuery, Query()]
