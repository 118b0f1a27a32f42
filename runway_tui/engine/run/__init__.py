"""Deciding and doing (Alembic's runtime/): the run's session (`session.py`) and the `--group` run
(`group.py`); the runner itself is engine/runner.py for now (it moves here with its `RunDeps`)."""
