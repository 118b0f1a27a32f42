"""The migration engine: no Textual here. Both front ends (TUI and CLI) use `MigrationApp`.

Map of the package:
- config.py      YAML config: discovery, ${VAR} interpolation, validation with file:line errors
- scripts.py     the script directory: migration files inspected with `ast`, templates, checksums
- embedded.py    the embedded SecantusDB daemon (a child process, never imported)
- connection.py  client creation and server capabilities (topology, transactions)
- repository.py  migrations collection and append-only audit log
- lock.py        the lease lock with heartbeat
- runners.py     who runs a step, and whether they still do: running vs interrupted
- status.py      files vs records -> status rows with problems (drift, orphan, ...)
- planner.py     request -> ordered steps, or blockers
- moved.py       a run the database moved under: who moved it, to what, and the fresh plan
- runner.py      runs one step (transaction covering the state write when possible)
- app.py         MigrationApp: the API; MigrationSession: Mongorunway-style accessors
- events.py      typed events and the bus
"""
