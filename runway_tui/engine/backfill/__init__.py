"""Backfills: a data migration over a big collection, batched, checkpointed, throttled and resumable (issue 26).

A migration calls `ctx.backfill(collection, filter, update)` (server-side updates) or iterates
`ctx.batches(collection, filter)` and writes each batch with `ctx.write_batch(collection, operations)`. The walk
goes in `_id` order; after each batch its writes and its checkpoint commit in one transaction (replica set), so
a step interrupted at any instant resumes from its checkpoint and never applies a batch twice.

Map of the package:
- control.py         pause, resume and cancel asked by a front end, seen by the running backfill between batches
- progress.py        what a backfill reports (`BackfillFigures`: done, total, rate, ETA, batch, lag) and its meter
- throttle.py        batch size adapted to a target batch time, and the documents-per-second cap
- lag.py             replica-set lag read from replSetGetStatus, and whether a batch must wait for it (pure)
- pacing.py          one walk's pace: its batch size, the rate cap, when to read the lag again, the rate shown
- checkpoint.py      what is done, kept in the migration's record: per call, the last `_id` and the counts
- walk.py            one walk in `_id` order: one cursor, each batch's writes and checkpoint in one transaction
- step.py            a step's backfills behind ctx.backfill/ctx.batches/ctx.write_batch: checks, audit, events
"""
