"""Base classes of the API's pydantic models: what every request body and response shares.

The pattern (see docs/api.md, "How to add an endpoint"):

* a request body is a ``RequestBody``: unknown fields are refused with 422 naming them, so a
  typo (``txt`` for ``text``) never passes silently. Its fields say name and type; the domain
  keeps the business rules and their error codes. ``body.fields()`` hands the service the
  fields the client *sent* (a PATCH tells "absent" from ``null``);
* a response is a ``ResponseBody``: the fields are documented and checked on the way out;
  a later version may add fields (clients ignore those they do not know);
* a list is ``Page[Item]``: ``{"data": [...], "next_cursor": …}``.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field


class RequestBody(BaseModel):
    """A JSON request body. Unknown fields → 422 ``unknown_field`` naming the field; types are strict
    (``"yes"`` is not a boolean, ``"5"`` not a number)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    def fields(self) -> dict[str, Any]:
        """The fields the client sent, by their JSON names (absent fields stay absent)."""
        return self.model_dump(mode="json", exclude_unset=True, by_alias=True)


class ResponseBody(BaseModel):
    """A JSON response body: documented fields, and room for fields a later version adds."""

    model_config = ConfigDict(extra="allow")


Item = TypeVar("Item")


class Page(BaseModel, Generic[Item]):
    """One page of a list. ``next_cursor`` is ``null`` on the last page; pass it back as ``?cursor=``."""

    data: list[Item]
    next_cursor: str | int | None = Field(default=None, description="The next page's cursor, or null at the end")


class Listing(BaseModel, Generic[Item]):
    """A whole, unpaged list."""

    data: list[Item]
