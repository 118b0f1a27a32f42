"""Create the sessions collection; sessions expire one hour after created_at (TTL index)."""

version = 5
# Dropping a collection is not allowed inside a transaction, and the TTL index is built on its own.
transactional = False

TTL_SECONDS = 3600
INDEX_NAME = "created_at_ttl"


def upgrade(ctx):
    db = ctx.db
    if "sessions" not in db.list_collection_names(session=ctx.session):
        db.create_collection("sessions", session=ctx.session)
    db["sessions"].create_index(
        "created_at", expireAfterSeconds=TTL_SECONDS, name=INDEX_NAME, session=ctx.session
    )
    ctx.log(f"sessions collection ready; documents expire {TTL_SECONDS}s after created_at")


def downgrade(ctx):
    ctx.db.drop_collection("sessions", session=ctx.session)
    ctx.log("dropped sessions")
