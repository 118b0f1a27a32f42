"""Mongorunway compatibility: its migration files (recognised by `files`, run by `steps` with the `shim`
package standing in for `mongorunway`), so a Mongorunway project works unchanged without Mongorunway."""
