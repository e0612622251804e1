"""Request and response models of the HTTP API (pydantic), with examples for the OpenAPI page."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from search.errors import InvalidInput
from search.matching.query import check_offices


class QueryIn(BaseModel):
    """One entity to check."""

    model_config = ConfigDict(extra="forbid")

    query_id: str | None = Field(default=None, max_length=200, examples=["q1"])
    name: str = Field(min_length=1, max_length=10_000, examples=["陳大文"], description="Any script or romanization.")
    entity_type: Literal["person", "company"] | None = Field(
        default=None,
        description="person or company. Omitted: a name ending in a legal form (有限公司, Co., Ltd.) is "
        "searched as a company, any other as both; the answer's searched_as and assumed say which.",
    )
    id_number: str | None = Field(default=None, max_length=100, examples=[None])
    birth_date: str | None = Field(
        default=None, max_length=20, examples=[None], description="YYYY-MM-DD (or YYYY, YYYY-MM)."
    )
    gender: str | None = Field(default=None, max_length=20, examples=[None])

    @field_validator("name")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("name must not be blank")
        return v


class MatchRequest(BaseModel):
    """A batch of queries, optionally limited to some offices."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "queries": [{"query_id": "q1", "name": "陳大文", "entity_type": "person"}],
                    "offices": None,
                    "limit": 10,
                }
            ]
        },
    )

    queries: list[QueryIn] = Field(min_length=1)
    offices: list[str] | None = Field(default=None, description="ISO 3166-2 office codes to search; all if null.")
    limit: int = Field(default=10, ge=1, le=100, description="Most matches returned per query.")

    @field_validator("offices")
    @classmethod
    def _known_offices(cls, v: list[str] | None) -> list[str] | None:
        try:
            return check_offices(v)  # the core's one check, so every entry point says the same
        except InvalidInput as exc:
            raise ValueError(exc.message) from exc


class FeatureOut(BaseModel):
    feature: str
    value: float | str
    detail: str
    query: str | None = None
    candidate: str | None = None


class MatchOut(BaseModel):
    office: str
    record_id: str
    entity_type: str
    name: str
    birth_date: str | None = Field(default=None, description="The matched record's, to tell namesakes apart.")
    id_number: str | None = None
    gender: str | None = None
    score: float
    verdict: Literal["match", "possible"] = Field(
        default="match", description="match: judged the same entity; possible: worth a human look, not confirmed."
    )
    doubt: str | None = Field(
        default=None,
        description="Why a possible record is only possible.",
        examples=["rests on 2 guesses (fuzzy fan/han; fuzzy cheng/chen): an ID number or birth date would confirm it"],
    )
    explanation: list[FeatureOut]


class EntityOut(BaseModel):
    entity: int = Field(description="1-based, in order of the entity's best match.")
    matches: list[int] = Field(description="Positions in this result's matches.")
    offices: list[str]
    names: list[str]
    birth_dates: list[str]
    id_numbers: list[str]
    genders: list[str]
    summary: str = Field(examples=["held by CN-GD, CN-HK, CN-MO (born 1971-02-11)"])
    separated_by: list[str] = Field(
        description="Why this is not an earlier entity.",
        examples=[["not entity 1: birth date conflicts: 1971-02-11 vs 1980-05-02"]],
    )
    undecided_between: list[int] = Field(description="Earlier entities this hit may be: nothing tells them apart.")


class QueryEcho(BaseModel):
    name: str
    entity_type: str | None
    id_number: str | None
    birth_date: str | None
    gender: str | None


class ResultOut(BaseModel):
    query_id: str | None
    query: QueryEcho = Field(description="The query as asked, beside each match's own birth date, ID and gender.")
    seen: bool = Field(description="True iff at least one partner office holds a record judged the same entity.")
    offices: dict[str, int] = Field(description="Matches per office holding a record.")
    searched_as: list[str] = Field(description="The entity types searched.", examples=[["person", "company"]])
    assumed: str | None = Field(default=None, description="Why, when the query gave no entity_type.")
    matches: list[MatchOut]
    possible: list[MatchOut] = Field(
        description="Records worth a human look but not confirmed (seen stays false for these alone)."
    )
    entities: list[EntityOut] = Field(description="The matches grouped into distinct entities (namesakes apart).")
    summary: str = Field(
        examples=[
            "2 different people match this name: 1. held by CN-FJ (born 1980-05-02); "
            "2. held by CN-GD, CN-HK, CN-MO (born 1971-02-11)"
        ]
    )


class MatchResponse(BaseModel):
    results: list[ResultOut]
    offices: dict[str, int] = Field(description="Over the whole batch: queries seen per office.")
    took_ms: float


class RecordOut(BaseModel):
    office: str
    record_id: str
    entity_type: str
    name: str
    aliases: list[str]
    id_number: str | None
    birth_date: str | None
    gender: str | None
    phone: str | None
    address: str | None
    case_id: str | None
    case_date: str | None
    offence: str | None
    attributes: dict[str, Any]


class RecordResponse(BaseModel):
    record: RecordOut
    same_entity: list[MatchOut] = Field(
        description="Other records (of any office) the scorer judges to be the same entity."
    )


class ErrorBody(BaseModel):
    code: str
    message: str
    field: str | None = None
    details: list[dict[str, Any]] | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


class ScreeningRow(BaseModel):
    """One watchlist row; only ``name`` is needed (a row without it is reported, not refused)."""

    model_config = ConfigDict(extra="forbid")

    query_id: str | None = Field(default=None, max_length=200)
    name: str | None = Field(default=None, max_length=10_000)
    entity_type: str | None = Field(default=None, max_length=20, description="person (default) or company")
    id_number: str | None = Field(default=None, max_length=100)
    birth_date: str | None = Field(default=None, max_length=20)
    gender: str | None = Field(default=None, max_length=20)


class ScreeningRequest(BaseModel):
    """A watchlist sent as JSON rows."""

    model_config = ConfigDict(extra="forbid")

    rows: list[ScreeningRow] = Field(min_length=1)
    filename: str = Field(default="rows.json", max_length=200, description="A label for the job.")
    limit: int = Field(default=10, ge=1, le=100, description="Most matches per row.")
    offices: list[str] | None = Field(default=None, description="Office codes to search; all if null.")


class JobOut(BaseModel):
    id: str
    status: Literal["queued", "running", "done", "cancelled", "failed"]
    filename: str
    office: str
    rows_total: int
    rows_done: int
    rows_seen: int
    rows_rejected: int
    rows_per_second: float | None
    eta_seconds: float | None
    limit: int
    offices: list[str]
    created_at: str
    started_at: str | None
    queue_position: int | None = Field(
        default=None,
        description="An active job's place in its office's line (0: being matched; 1: next for the office).",
    )
    offices_waiting: int | None = Field(
        default=None, description="Offices with active jobs: the server serves them in turn, 1,000 rows each."
    )
    finished_at: str | None
    error: str | None
