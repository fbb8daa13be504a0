"""API shape of a duplicate suggestion (also part of the ticket and bug creation responses)."""

from __future__ import annotations

from ninja import Schema
from pydantic import Field

KEY_OR_EMPTY = r"^([A-Za-z]{2,10}-[0-9]{1,12})?$"


class SimilarOut(Schema):
    kind: str = Field(description="bug or ticket")
    key: str
    title: str
    status: str
    score: int = Field(description="Similarity, 0-100.")
    url: str


class SimilarQuery(Schema):
    title: str = Field(description="The title being written (at least 3 characters).")
    description: str = Field("", max_length=100_000)
    exclude: str = Field(
        "", pattern=KEY_OR_EMPTY, description="A key to leave out (BUG-7, INC-12)."
    )
    limit: int = Field(5, ge=1, le=10)
