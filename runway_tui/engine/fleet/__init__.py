"""Fleets: one project, many tenant databases on several clusters (issue 22).

A fleet application lists its clusters (`targets`) and how each one's tenant databases are found (`match`,
`list`, `catalog`). Each tenant is driven through the engine's public API as it is, one `MigrationApp` per
tenant database, so each tenant keeps its own lease, transactions, records and audit log: there is no
cross-database transaction, and a failed tenant rolls nothing back elsewhere. What the whole fleet was asked
to do and where every tenant ended is the fleet run record, kept in the `control` database, which several
runners share.

- config.py          the `fleet:` block, parsed into a typed `FleetConfig`
- targets.py         the tenant databases of each cluster, resolved
- record.py          the run record (runs, tenants, concurrency slots) in the control database
- pool.py            the runner: waves, a bounded pool per cluster, the failure budget, claims, joining and resuming
- inspect.py         status / plan / check of every tenant (never writes)
- facade.py          `Fleet`, what the front ends use (kept out of this file: the config parser imports `config` alone)
"""
