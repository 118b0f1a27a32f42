"""Rehearsal: know what pending migrations will do before production sees them (issue 20).

A sample of each collection the migrations name is copied read-only from production (with its indexes,
validator and options, and runway's own state so the plan is production's) into a scratch database; the real
engine runs the migrations there one step at a time, each up followed by its down and its up again; the report
says per migration what changed, whether the down put the sample back, how long it took and what that
suggests for the whole collection, and what read-only pre-checks on production found.

    from runway_tui.engine.rehearse import RehearsalRequest, rehearse
    report = rehearse(config, RehearsalRequest(sample_size=1000))

Map of the package:
- run.py             the rehearsal itself: copy what the pending migrations touch, run them in the scratch, report
- production.py      production's side: one client that only reads, and counts what it sends
- scratch.py         the scratch database: where it is, and building it from what production holds
- diff.py            snapshots of a step's collections and the difference of two of them
- prechecks.py       pre-checks on production, derived from what a step did in the scratch
- report.py          what a rehearsal found: per migration its result, counts, diffs, reversal; the exit
"""

from runway_tui.engine.rehearse.report import MigrationRehearsal, Precheck, RehearsalReport
from runway_tui.engine.rehearse.run import DEFAULT_SAMPLE, ReadSettings, RehearsalRequest, rehearse

__all__ = ["DEFAULT_SAMPLE", "MigrationRehearsal", "Precheck", "ReadSettings", "RehearsalReport",
           "RehearsalRequest", "rehearse"]
