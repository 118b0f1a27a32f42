"""Deciding and doing (Alembic's runtime/); the step runner itself is engine/runner.py, over `RunDeps`.

Map of the package:
- deps.py            `RunDeps`: what the step runner may use (never the `MigrationApp`)
- session.py         `RunSession`: the client session an operation runs its steps in, and its replacement
- group.py           `--group`: a whole run in one transaction, its bookkeeping written once at its end
- loading.py         a migration file compiled and executed from exactly the text we checksum
- operation.py       `Operation`: read-only refusal, one at a time, the lease and driver errors, once
- commands.py        mark, baseline, accept, forget, unlock as functions over an `Operation`
- watching.py        `StepWatch`: runway's own collections watched while a migration runs
- evidence_book.py   `EvidenceBook`: the audit log's evidence kept between reads, and what each write adds
- locking.py         `LeaseHolding`: the lease taken, waited for and released around an operation
- refresh.py         refresh and sync: files into the migrations collection, abandoned attempts noted
- stepping.py        `StepRuns`: up and down, planned, confirmed and run under the lease
- planning.py        a request turned into a plan, blockers grouped
- session_misuse.py  a migration that ended or replaced its step's transaction itself, told apart
- gate.py            `OperationGate`: read-only refusal, one at a time, the lease and driver errors, once
- entries.py         `AuditEntries`: every audit entry we write, dated after its version's newest
- wiring.py          the composition root: the connection opened, the engine's parts built over it
- backfills.py       a step's backfills built for the runner, and the `paused` state a stopped one leaves
"""
