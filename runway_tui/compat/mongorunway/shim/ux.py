"""The constants of `mongorunway.application.ux` that migration files use (validator levels and actions)."""

from __future__ import annotations

import enum
import typing

MIGRATION_SCHEMA_VALIDATOR: typing.Final[dict[str, typing.Any]] = {
    "$jsonSchema": {
        "bsonType": "object",
        "required": ["_id", "name", "version", "checksum", "is_applied", "description"],
        "properties": {
            "_id": {"bsonType": "int"},
            "name": {"bsonType": "string", "minLength": 1},
            "version": {"bsonType": "int", "minimum": 1},
            "checksum": {"bsonType": "string"},
            "is_applied": {"bsonType": "bool"},
            "description": {"bsonType": "string"},
        },
    }
}
APPLIED_MIGRATION_INDEX: typing.Final = [("is_applied", 1), ("_id", -1)]
PENDING_MIGRATION_INDEX: typing.Final = [("is_applied", 1)]


class ValidationAction(str, enum.Enum):  # noqa: UP042 - Mongorunway's str(), not StrEnum's
    ERROR = "error"
    WARNING = "warn"


class ValidationLevel(str, enum.Enum):  # noqa: UP042 - Mongorunway's str(), not StrEnum's
    OFF = "off"
    STRICT = "strict"
    MODERATE = "moderate"
