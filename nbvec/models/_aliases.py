"""Collection aliases: other names for a collection, changed atomically.

>>> from nbvec.models import CreateAlias, CreateAliasOperation
>>> CreateAliasOperation(create_alias=CreateAlias(collection_name="docs_v2", alias_name="docs"))
CreateAliasOperation(create_alias=CreateAlias(collection_name='docs_v2', alias_name='docs'))
"""

from __future__ import annotations

from typing import List

from ._base import NbvecModel
from ._types import one_of, tag_by_keys

__all__ = [
    "AliasDescription",
    "CollectionsAliasesResponse",
    "CreateAlias",
    "DeleteAlias",
    "RenameAlias",
    "CreateAliasOperation",
    "DeleteAliasOperation",
    "RenameAliasOperation",
    "AliasOperations",
    "ChangeAliasesOperation",
]


class AliasDescription(NbvecModel):
    alias_name: str
    collection_name: str


class CollectionsAliasesResponse(NbvecModel):
    """What ``get_aliases`` and ``get_collection_aliases`` return."""

    aliases: List[AliasDescription]


class CreateAlias(NbvecModel):
    """Make ``alias_name`` another name of ``collection_name``."""

    collection_name: str
    alias_name: str


class DeleteAlias(NbvecModel):
    alias_name: str


class RenameAlias(NbvecModel):
    old_alias_name: str
    new_alias_name: str


class CreateAliasOperation(NbvecModel):
    create_alias: CreateAlias


class DeleteAliasOperation(NbvecModel):
    delete_alias: DeleteAlias


class RenameAliasOperation(NbvecModel):
    rename_alias: RenameAlias


_KEYS = {
    "create_alias": "CreateAliasOperation",
    "delete_alias": "DeleteAliasOperation",
    "rename_alias": "RenameAliasOperation",
}
AliasOperations = one_of(
    {tag: globals()[tag] for tag in _KEYS.values()},
    tag_by_keys(_KEYS),
    "an alias operation: a dict with one of {'create_alias', 'delete_alias', 'rename_alias'}",
)


class ChangeAliasesOperation(NbvecModel):
    """Alias operations applied together (``update_collection_aliases``)."""

    actions: List[AliasOperations]
