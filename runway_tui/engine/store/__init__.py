"""Everything runway keeps in MongoDB for one application, behind one protocol (golang-migrate's Driver).

Map of the package:
- protocol.py        `MigrationStore`, the seam both shapes implement (runway's here, Mongorunway's in compat)
- mongo.py           `MongoStore`: runway's own shape (records, audit, sources, lease collection, step writes)
- collections.py     `OwnCollections`: the one answer to "which collections are runway's"
- driver_errors.py   the only code that reads a driver error's text; driver errors -> `RunwayError`
- conformance.py     the checks every store shape must pass, on a real server
"""
