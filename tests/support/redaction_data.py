"""A collection written by someone who knows what the explorer redacts, for the redaction tests (issue 25).

`accounts` holds every shape a redacted value hides in: a plain field, a case variant of its name, a glob
path, a map keyed by data (e-mail addresses as keys), documents inside an array, a MongoDB URI with its
password, and the configuration's known secret inside an ordinary value; its validator compares a redacted
field with a literal inside `$expr`. `keyed` has an `_id` that holds a
redacted field. Nothing here is ever shown in clear by the explorer: the tests search every view for SECRETS.
"""

from __future__ import annotations

from pymongo import ASCENDING, MongoClient

REDACT_FIELDS = ("email", "password", "apikeys", "*.ssn")
ACCOUNTS = "accounts"
KEYED = "keyed"

EMAIL = "ada@secret.example"
CASE_EMAIL = "bob@case-variant.example"
CASE_PASSWORD = "Case-Variant-Pw-77"
SSN = "078-05-1120"
CASE_SSN = "219-09-9999"
MAP_KEY = "carol@keyed-map.example"  # a key of a redacted sub-document: keys are data too
API_KEY = "key-7Hq2-not-for-eyes"
ORDER_EMAIL = "orders@in-array.example"
URI_PASSWORD = "bobs-uri-pw-42"
URI_IN_VALUE = f"mongodb://bob:{URI_PASSWORD}@db.example:27017/app?authSource=admin"
CONFIG_SECRET = "Cfg-Known-Secret-93"  # given to the inspector as the configuration's secret
KEYED_EMAIL = "dave@in-the-id.example"
VALIDATOR_EMAIL = "frank@in-a-validator.example"  # a literal next to a redacted field, in an expression

SECRETS = (EMAIL, CASE_EMAIL, CASE_PASSWORD, SSN, CASE_SSN, MAP_KEY, API_KEY, ORDER_EMAIL, URI_PASSWORD,
           CONFIG_SECRET, KEYED_EMAIL, VALIDATOR_EMAIL)


def accounts(config_secret: str = CONFIG_SECRET) -> list[dict]:
    return [
        {"_id": 1, "name": "ada", "email": EMAIL, "password": "pw-ada-plain-1",
         "apikeys": {MAP_KEY: API_KEY}, "profile": {"ssn": SSN, "since": 2020},
         "orders": [{"sku": "A1", "email": ORDER_EMAIL}, {"sku": "A2"}], "tier": "gold",
         "note": f"connect with {URI_IN_VALUE}", "links": {"primary": URI_IN_VALUE}},
        {"_id": 2, "name": "bob", "EMAIL": CASE_EMAIL, "PassWord": CASE_PASSWORD, "Profile": {"SSN": CASE_SSN},
         "orders": [{"sku": "B1"}], "tier": "silver", "note": f"the shared secret is {config_secret}"},
        {"_id": 3, "name": "carol", "profile": {"since": 2021}, "orders": [], "tier": "gold",
         "note": "mongodb://reader@db.example/app (no password: shown as it is)"},
    ]


def seed_redaction(client: MongoClient, name: str, config_secret: str = CONFIG_SECRET) -> None:
    """(Re)create the database: `accounts`, a validator and a partial index naming secrets, and `keyed`.
    `config_secret` is the configuration's known secret of the project that will look at it."""
    client.drop_database(name)
    db = client[name]
    validator = {"$and": [{"note": {"$ne": URI_IN_VALUE}}, {"$expr": {"$ne": ["$email", VALIDATOR_EMAIL]}}]}
    db.create_collection(ACCOUNTS, validator=validator, validationAction="warn")
    db[ACCOUNTS].insert_many(accounts(config_secret))
    db[ACCOUNTS].create_index([("tier", ASCENDING)], name="tier_partial",
                              partialFilterExpression={"note": {"$gt": f"x{config_secret}"}})
    db[KEYED].insert_many([{"_id": {"email": KEYED_EMAIL, "n": 1}, "name": "dave"},
                           {"_id": {"email": "erin@in-the-id.example", "n": 2}, "name": "erin"}])
