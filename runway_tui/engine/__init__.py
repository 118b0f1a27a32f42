"""The migration engine: no Textual, no argparse, never the compat layer (import-linter keeps it so). Both front
ends (TUI and CLI) and the Python API use `MigrationApp`; compat plugs in through `plugins.py`.

Map of the package (tests/engine/test_package_map.py keeps it true: every module is listed, and only those):

Files on disk (never the database)
- config/            YAML config: discovery, ${VAR} interpolation, validation with file:line errors
- scripts/           the script directory: migration files inspected with `ast`, templates, checksums
- project_files.py   reading and writing the project's files: regular files only, bounded, never waiting
- record_files.py    which file on disk may hold a record's migration, even when it cannot be parsed
- inspect_refs.py    which collections a migration file names (read with `ast`)

The server and what runway keeps in it
- embedded.py        the embedded SecantusDB daemon (a child process, never imported)
- embedded_reaper.py stops a folder's idle embedded daemon after its grace period
- connection.py      client creation and server capabilities (topology, transactions)
- store/             everything runway keeps in MongoDB behind one protocol (MigrationStore), both shapes
- repository.py      migrations collection and append-only audit log
- storage.py         which repository and audit journal an application uses (runway's or a compat shape)
- sources.py         the source of each applied file, kept beside its record
- lock.py            the lease lock with heartbeat
- audit_pages.py     audit log pages read by key
- evidence.py        the audit log's evidence of each version's state
- state_at.py        which versions were applied at a given moment, from the audit log alone
- audit_reader.py    `AuditReader`: history, its filters and paging, state at a moment, stored sources
- watch.py           change stream on runway's own collections
- guard.py           a migration never changes runway's own collections

Deciding (pure)
- status.py          files vs records -> status rows with problems (drift, orphan, ...)
- planner.py         request -> ordered steps, or blockers
- runners.py         who runs a step, and whether they still do: running vs interrupted
- policy.py          who may write (read-only), one rule for every front end
- moved.py           a run the database moved under: who moved it, to what, and the fresh plan

Knowing before running
- rehearse/          pending migrations run on a sample of production in a scratch database

Big collections
- backfill/          batched, checkpointed, throttled data migrations that pause and resume (ctx.backfill)

Many databases
- fleet/             one project, many tenant databases on several clusters: waves, caps, a shared run record

Doing
- app.py             MigrationApp: the API (MigrationSession lives in compat/mongorunway/session.py)
- app_verbs.py       its convenience names: events, Mongorunway's counting verbs, history reads, overview
- factory.py         create_app
- runner.py          runs one step (transaction covering the state write when possible), over run/deps.py
- run/               the runner's narrow dependencies, its session, --group, and the command functions
- context.py         what a migration's upgrade(ctx) / downgrade(ctx) receives
- capture.py         what a migration prints goes to the live log
- interrupts.py      Ctrl-C and SIGTERM held while a step is recorded

The read-only explorer
- inspect.py         documents, schema, indexes, validation and the server, safe on production
- inspect_reports.py the explorer's settings, the user's query, and one report per view
- inspect_schema.py  the schema view's inference from a sample of documents
- inspect_values.py  (extended) JSON in, redacted plain data and extended JSON text out
- inspect_redaction.py what the explorer hides, and the inputs it refuses
- overview.py        the "Database state" pane's description of the database
- mongosh_syntax.py  what people paste from mongosh or Compass, read into BSON values
- page_keys.py       keyset paging under the user's projection
- catalog_reads.py   listCollections and listIndexes sent with the read preference asked (pymongo: primary)
- query_plan.py      the query plan of the Documents view's filter and sort
- schema_values.py   which values a field takes, and the filter that selects one
- document_cells.py  table cells for documents and aggregation results
- document_export.py what an explorer view shows, saved to a file
- aggregate_policy.py which pipelines the aggregate view runs, and how
- aggregate_presets.py ready-made pipelines for the commonest questions
- aggregate_run.py   one run of a pipeline, a page at a time
- redacted_view.py   pipelines run on documents the server has redacted first
- audit_filter.py    an incident review's questions of the audit log, as one query
- audit_export.py    audit entries written to a file for an incident review
- timespec.py        moments as people type them (ISO 8601, relative)

Shared
- models.py          plain data handed to the front ends: records, audit entries, status rows (and the two below)
- run_plans.py       plans, run results and refresh reports
- lock_holder.py     the migration lock's holder and the step it runs
- events.py          typed events and the bus
- errors.py          every failure, each mapped to one documented exit code
- messages.py        texts shown and recorded: terminal-safe, one bounded line
- vocabulary.py      how versions and actions are named, and what to do next
- uri.py             masking of MongoDB URIs
- limits.py          bounds every layer shares (BSON's 64-bit integers)
- plugins.py         the registries compat fills: config readers, script formats, store shapes, startup hooks
"""
