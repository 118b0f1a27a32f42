"""The migration engine: no Textual here. Both front ends (TUI and CLI) use `MigrationApp`.

Map of the package:
- config.py      YAML config: discovery, ${VAR} interpolation, validation with file:line errors
- scripts.py     the script directory: migration files inspected with `ast`, templates, checksums
- embedded.py    the embedded SecantusDB daemon (a child process, never imported)
- connection.py  client creation and server capabilities (topology, transactions)
- store/         everything kept in MongoDB behind one protocol: protocol.py (MigrationStore), mongo.py
                 (runway's shape), collections.py (OwnCollections), driver_errors.py (the only reader of
                 driver text), conformance.py (the checks every shape passes)
- repository.py  runway's records and append-only audit log (composed by store/mongo.py)
- lock.py        the lease lock with heartbeat
- runners.py     who runs a step, and whether they still do: running vs interrupted
- status.py      files vs records -> status rows with problems (drift, orphan, ...)
- planner.py     request -> ordered steps, or blockers
- moved.py       a run the database moved under: who moved it, to what, and the fresh plan
- runner.py      runs one step (transaction covering the state write when possible), over run/deps.py RunDeps
- run/           deps.py (what the runner may use), session.py (RunSession), group.py (--group), loading.py,
                 operation.py (Operation) and commands.py (mark, baseline, accept, forget, unlock)
- app.py         MigrationApp: the API (MigrationSession moved to compat/mongorunway/session.py)
- events.py      typed events and the bus
"""
