"""Create the users collection with a schema validator and seed 2000 demo users.

The validator requires every user to have a string `email`. Seeded users get fixed `_id`s 1..2000 so
that later migrations (and the demo) are reproducible.
"""

from pymongo import ReplaceOne

version = 1
# MongoDB refuses `drop` inside a multi-document transaction, so the downgrade could never run in one;
# instead both directions are written to be safe to re-run after a partial failure.
transactional = False

USERS = 2000
BATCH = 500

USER_SCHEMA = {
    "bsonType": "object",
    "required": ["email"],
    "properties": {
        "email": {"bsonType": "string", "description": "login address; required"},
        "fullname": {"bsonType": "string"},
    },
}


def _user(n):
    return {"_id": n, "email": f"user{n}@example.com", "fullname": f"Demo User {n}"}


def upgrade(ctx):
    db = ctx.db
    if "users" not in db.list_collection_names(session=ctx.session):
        db.create_collection(
            "users",
            validator={"$jsonSchema": USER_SCHEMA},
            validationLevel="strict",
            validationAction="error",
            session=ctx.session,
        )
    users = db["users"]
    for start in range(1, USERS + 1, BATCH):
        stop = min(start + BATCH, USERS + 1)
        # Upserts instead of inserts so a re-run after a crash does not hit duplicate keys.
        users.bulk_write(
            [ReplaceOne({"_id": n}, _user(n), upsert=True) for n in range(start, stop)],
            ordered=False,
            session=ctx.session,
        )
        ctx.progress(stop - 1, USERS)
    ctx.log(f"users collection ready with {USERS} demo users")


def downgrade(ctx):
    ctx.db.drop_collection("users", session=ctx.session)
    ctx.log("dropped users")
