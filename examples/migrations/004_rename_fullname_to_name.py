"""Rename users.fullname to users.name."""

version = 4


def upgrade(ctx):
    result = ctx.db["users"].update_many(
        {"fullname": {"$exists": True}}, {"$rename": {"fullname": "name"}}, session=ctx.session
    )
    ctx.log(f"renamed fullname -> name on {result.modified_count} users")


def downgrade(ctx):
    result = ctx.db["users"].update_many(
        {"name": {"$exists": True}}, {"$rename": {"name": "fullname"}}, session=ctx.session
    )
    ctx.log(f"renamed name -> fullname on {result.modified_count} users")
