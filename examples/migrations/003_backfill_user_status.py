"""Backfill users.status = "active" where it is missing, in batches of 250 by _id range.

Runs inside the migration's transaction: either every user gets a status or none does.
"""

version = 3

BATCH = 250
MISSING = {"status": {"$exists": False}}


def upgrade(ctx):
    users = ctx.db["users"]
    total = users.count_documents(MISSING, session=ctx.session)
    done = 0
    last_id = None
    ctx.progress(0, total)
    while done < total:
        query = dict(MISSING)
        if last_id is not None:
            query["_id"] = {"$gt": last_id}
        ids = [
            doc["_id"]
            for doc in users.find(query, {"_id": 1}, session=ctx.session).sort("_id", 1).limit(BATCH)
        ]
        if not ids:
            break
        result = users.update_many(
            {"_id": {"$gte": ids[0], "$lte": ids[-1]}, **MISSING},
            {"$set": {"status": "active"}},
            session=ctx.session,
        )
        done += result.modified_count
        last_id = ids[-1]
        ctx.progress(done, total)
    ctx.log(f"set status='active' on {done} users")


def downgrade(ctx):
    result = ctx.db["users"].update_many(
        {"status": {"$exists": True}}, {"$unset": {"status": ""}}, session=ctx.session
    )
    ctx.log(f"removed status from {result.modified_count} users")
