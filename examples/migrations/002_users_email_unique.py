"""Add a unique index on users.email."""

version = 2
# Index builds cannot run inside a multi-document transaction on an existing collection (MongoDB only
# allows createIndexes in a transaction on a collection created in that same transaction).
transactional = False

INDEX_NAME = "email_unique"


def upgrade(ctx):
    ctx.db["users"].create_index("email", unique=True, name=INDEX_NAME, session=ctx.session)
    ctx.log(f"created unique index {INDEX_NAME} on users.email")


def downgrade(ctx):
    users = ctx.db["users"]
    if INDEX_NAME in users.index_information(session=ctx.session):
        users.drop_index(INDEX_NAME, session=ctx.session)
    ctx.log(f"dropped index {INDEX_NAME}")
