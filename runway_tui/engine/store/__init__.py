"""Everything runway keeps in MongoDB for one application, behind one protocol (golang-migrate's Driver).

- `collections.py`: `OwnCollections`, the one answer to "which collections are runway's".
- `driver_errors.py`: the only code that reads a driver error's text; driver errors -> `RunwayError`.
- `protocol.py`: `MigrationStore`, the seam both shapes implement (runway's in `mongo.py`, Mongorunway's in
  compat/mongorunway/storage.py); `conformance.py` holds the checks every shape must pass.
"""
