"""Backfill users.email_domain from each user's email, resumably (ctx.backfill).

A data migration over a collection of any size: the engine walks `users` in `_id` order, a batch at a
time, and commits each batch with its checkpoint. Ctrl-C, a cancel in the TUI (B) or a dead runner leaves
it `paused`; the next `up` continues from the checkpoint, and no user is updated twice on a replica set.
The filter skips users already done, so even on a standalone server (where the last batch may be applied
twice after a crash) a rerun changes nothing twice.
"""

version = 6
# a backfill commits batch by batch, so the step itself runs outside a transaction
transactional = False

MISSING = {"email_domain": {"$exists": False}}


def upgrade(ctx):
    result = ctx.backfill(
        ctx.db.users,
        MISSING,
        [{"$set": {"email_domain": {"$arrayElemAt": [{"$split": ["$email", "@"]}, 1]}}}],
        max_docs_per_s=5000,  # leave room for production traffic; the config's backfill: key sets a default
    )
    ctx.log(f"email_domain set on {result.modified} of {result.matched} users")


def downgrade(ctx):
    result = ctx.backfill("users", {"email_domain": {"$exists": True}}, {"$unset": {"email_domain": ""}})
    ctx.log(f"email_domain removed from {result.modified} users")
