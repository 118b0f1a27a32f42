"""The password of the URI (written inline or through `${VAR}`) never appears anywhere a user or a log
can see it: CLI output (human and --json, success and failure), error messages, the engine's log events
and log records, exception texts, and the documents runway writes (migrations, audit log, lock).

The TUI is not covered here yet (see docs/RELIABILITY.md).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pymongo import MongoClient

from runway_tui.engine.config import load_config
from runway_tui.engine.errors import RunwayError
from runway_tui.engine.events import MigrationEvent
from runway_tui.engine.factory import create_app
from tests.reliability.conftest import PASSWORD, USER, auth_uri
from tests.reliability.helpers import no_traceback, run_inproc, set_config
from tests.support.cli import run_cli
from tests.support.project import Project
from tests.support.server import Server

LEAKY = '''"""Fails with the password in its message"""
import os

version = 3


def upgrade(ctx):
    raise RuntimeError("could not log in with " + os.environ["RUNWAY_TEST_PW"])


def downgrade(ctx):
    pass
'''
STEP = '''"""Step {v}"""
version = {v}


def upgrade(ctx):
    ctx.log("connected to " + str(ctx.db.name))
    ctx.db.things.insert_one({{"v": {v}}}, session=ctx.session)


def downgrade(ctx):
    ctx.db.things.delete_one({{"v": {v}}}, session=ctx.session)
'''


@pytest.fixture(params=["env-var", "inline"])
def secret_project(request: pytest.FixtureRequest, project: Project, auth_server: Server,
                   monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv("RUNWAY_TEST_PW", PASSWORD)
    if request.param == "env-var":
        set_config(project, uri=f"mongodb://{USER}:${{RUNWAY_TEST_PW}}@127.0.0.1:{auth_server.port}"
                                "/?directConnection=true&authSource=admin")
    else:
        set_config(project, uri=auth_uri(auth_server))
    for v in (1, 2):
        project.write_migration(v, f"step_{v}", STEP.format(v=v))
    return project


def _clean(where: str, *texts: str) -> None:
    for text in texts:
        assert PASSWORD not in text, f"password shown in {where}: {text[:500]}"


COMMANDS = [
    ["status"], ["plan"], ["check"], ["refresh"], ["up", "--dry-run"], ["up"], ["up", "--all"], ["history"],
    ["down", "--dry-run"], ["down"], ["mark", "2", "--pending"], ["mark", "2", "--applied"], ["accept", "1"],
    ["unlock"], ["unlock", "--force"], ["new", "another_step"], ["up", "--to", "99"], ["down", "--to", "0"],
    ["status", "--debug"], ["up", "--to", "99", "--debug"],
]


def test_no_cli_output_shows_the_password(secret_project: Project, auth_server: Server,
                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="runway_tui")
    shown = 0
    for json_mode in ([], ["--json"]):
        for args in COMMANDS:
            result = run_inproc(secret_project, *args, *json_mode)
            _clean(f"{args} stdout", result.out)
            _clean(f"{args} stderr", result.err)
            shown += 1
        for path in secret_project.scripts_dir.glob("*another_step.py"):
            path.unlink()
        secret_project.write_migration(3, "leaky", LEAKY)  # a failing step whose exception holds the password
        result = run_inproc(secret_project, "up", "--all", *json_mode)
        assert result.code == 1, result.err
        _clean("failed step", result.out, result.err)
        (secret_project.scripts_dir / "003_leaky.py").unlink()
        assert run_inproc(secret_project, "refresh").code == 0
    _clean("log records", caplog.text)
    assert shown >= 40
    # the failing step was really reached, and its message was scrubbed rather than dropped
    with MongoClient(auth_uri(auth_server)) as client:
        database = client[secret_project.db_name]
        failures = list(database.auditlog.find({"exc_name": "RuntimeError"}))
        assert failures and all("could not log in with ***" in f["exc_message"] for f in failures)
        # nothing runway wrote to the database contains it
        for name in database.list_collection_names():
            _clean(f"collection {name}", *(str(d) for d in database[name].find({})))


def test_real_process_output_and_failures(secret_project: Project) -> None:
    secret_project.write_migration(3, "leaky", LEAKY)
    for args in (["status"], ["up", "--all"], ["up", "--all", "--json"], ["history", "--json"]):
        result = run_cli("--config", str(secret_project.config_path), *args, cwd=secret_project.root)
        _clean(str(args), result.stdout, result.stderr)
    assert result.returncode == 0


def test_engine_events_logs_and_exceptions(secret_project: Project, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="runway_tui")
    seen: list[str] = []
    app = create_app("test", config=secret_project.config_path, raise_on_none=True)
    app.subscribe(lambda event: seen.append(f"{event!r} {event!s}"), MigrationEvent)
    secret_project.write_migration(3, "leaky", LEAKY)
    with pytest.raises(RunwayError) as failure:
        app.upgrade(all_=True)
    _clean("exception", str(failure.value), repr(failure.value))
    for name in ("status", "plan", "history", "lock_info", "database_overview"):
        _clean(name, repr(getattr(app, name)()))
    _clean("server info", repr(app.server_info), app.shown_address if hasattr(app, "shown_address") else "")
    app.close()
    assert len(seen) > 5
    _clean("events", *seen)
    _clean("log records", caplog.text)


def test_wrong_password_and_unreachable_are_masked(project: Project, auth_server: Server,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = "Wrong-" + PASSWORD[::-1]
    monkeypatch.setenv("RUNWAY_TEST_PW", wrong)
    set_config(project, uri=f"mongodb://{USER}:${{RUNWAY_TEST_PW}}@127.0.0.1:{auth_server.port}"
                            "/?directConnection=true&authSource=admin")
    for json_mode in ([], ["--json"]):
        result = run_inproc(project, "status", *json_mode)
        assert result.code == 2, result.err
        assert "authentication failed" in result.err
        assert wrong not in result.out + result.err and PASSWORD not in result.out + result.err
        no_traceback(result.err)
    set_config(project, uri=f"mongodb://{USER}:${{RUNWAY_TEST_PW}}@127.0.0.1:1/?directConnection=true",
               server_selection_ms=300)
    result = run_inproc(project, "status")
    assert result.code == 5 and "cannot reach the server" in result.err
    assert wrong not in result.err and f"{USER}:***@" in result.err


def test_config_objects_do_not_show_it(secret_project: Project) -> None:
    config = load_config(Path(secret_project.config_path)).app("test")
    _clean("config", str(config), repr(config), config.masked_uri)


# After interpolation the inline URI is the same as the ${VAR} one: one TUI walk covers both.
@pytest.mark.parametrize("secret_project", ["env-var"], indirect=True)
async def test_tui_screens_do_not_show_it(secret_project: Project) -> None:
    """Every screen the key map reaches (writes allowed: steps run, fail, get audited), as SVG text."""
    from runway_tui.tui.app import RunwayApp
    from tests.reliability.test_read_only import drive_every_key

    secret_project.write_migration(3, "leaky", LEAKY)
    config = load_config(Path(secret_project.config_path))
    screens: list[str] = []
    app = RunwayApp(config.app("test"), config.tui, read_only=False)
    try:
        await drive_every_key(app, screens)
    finally:
        app.shutdown_engine()
    assert len(screens) > 15
    _clean("TUI screens", *screens)


# ---------------------------------------------------------------------------------------------- round two
def test_debug_tracebacks_are_scrubbed(secret_project: Project) -> None:
    """`--debug` shows the traceback (with the chained exception that holds the password): scrubbed."""
    secret_project.write_migration(3, "leaky", LEAKY.replace('raise RuntimeError("could not log in with " + '
                                                             'os.environ["RUNWAY_TEST_PW"])',
                                                             f'raise RuntimeError("could not log in with " + '
                                                             f'"{PASSWORD}")'))
    for args in (["up", "--all", "--debug"], ["up", "--all", "--debug", "--json"]):
        result = run_inproc(secret_project, *args)
        assert result.code == 1
        assert "Traceback (most recent call last)" in result.err  # --debug really shows one
        _clean(f"{args} (in process)", result.out, result.err)
    result = run_cli("--config", str(secret_project.config_path), "up", "--debug", cwd=secret_project.root,
                     env={"RUNWAY_TEST_PW": PASSWORD})
    assert "Traceback (most recent call last)" in result.stderr
    _clean("--debug (real process)", result.stdout, result.stderr)


def test_api_verbose_exc_tracebacks_are_scrubbed(secret_project: Project, capsys: pytest.CaptureFixture) -> None:
    from runway_tui import use_cases

    secret_project.write_migration(3, "leaky", LEAKY)
    app = create_app("test", config=secret_project.config_path, raise_on_none=True)
    try:
        assert use_cases.upgrade(app, all_=True, verbose_exc=True) == 1
    finally:
        app.close()
    err = capsys.readouterr().err
    assert "Traceback" in err
    _clean("verbose_exc traceback", err)


SECRET = "S3cr3t-Tail-9x"  # each URI below hides it (or a password ending in it) in a way URI parsers trip on
UNPARSABLE_URIS = {
    "slash-in-password": f"mongodb://{USER}:pa/ss{SECRET}@127.0.0.1:PORT/?directConnection=true",
    "at-in-password": f"mongodb://{USER}:pa@ss{SECRET}@127.0.0.1:PORT/?directConnection=true",
    "question-mark-in-password": f"mongodb://{USER}:pa?ss{SECRET}@127.0.0.1:PORT/?directConnection=true",
    "hash-in-password": f"mongodb://{USER}:pa#ss{SECRET}@127.0.0.1:PORT/?directConnection=true",
    "colon-in-password": f"mongodb://{USER}:pa:ss{SECRET}@127.0.0.1:PORT/?directConnection=true",
    "password-only-slash": f"mongodb://{USER}:{SECRET}/x@127.0.0.1:PORT/",
    "proxy-password": f"mongodb://127.0.0.1:PORT/?directConnection=true&proxyHost=127.0.0.1&proxyPort=1"
                      f"&proxyUsername=u&proxyPassword={SECRET}",
    "proxy-password-alone": f"mongodb://127.0.0.1:PORT/?directConnection=true&proxyPassword={SECRET}",
    "tls-key-password": f"mongodb://127.0.0.1:PORT/?tls=true&tlsCertificateKeyFilePassword={SECRET}",
    "aws-session-token": f"mongodb://AKIA:{SECRET}@127.0.0.1:PORT/?authMechanism=MONGODB-AWS"
                         f"&authMechanismProperties=AWS_SESSION_TOKEN:{SECRET}",
    "srv-with-slash": f"mongodb+srv://{USER}:pa/ss{SECRET}@cluster0.example.com/",
}


@pytest.mark.parametrize("uri_id", sorted(UNPARSABLE_URIS))
def test_uris_that_do_not_parse_are_masked(uri_id: str, project: Project, auth_server: Server) -> None:
    uri = UNPARSABLE_URIS[uri_id].replace("PORT", str(auth_server.port))
    set_config(project, uri=uri, server_selection_ms=300)
    project.write_migration(1, "step_1", STEP.format(v=1))
    codes = set()
    for args in (["status"], ["status", "--json"], ["up", "--debug"], ["check", "--json"]):
        result = run_inproc(project, *args)
        no_traceback(result.out) if "--debug" in args else no_traceback(result.out, result.err)
        codes.add(result.code)
        for text in (result.out, result.err):
            assert SECRET not in text and SECRET[-6:] not in text, f"{uri_id} {args}: {text[:600]}"
    assert codes <= {2, 5}, codes  # refused as bad input, or the server refused / could not be reached


def test_mask_uri_hides_everything_between_scheme_and_last_at() -> None:
    from runway_tui.engine.uri import mask_uri, scrub, uri_secrets

    for uri in UNPARSABLE_URIS.values():
        masked = mask_uri(uri)
        assert SECRET not in masked and SECRET[-6:] not in masked, masked
        assert SECRET not in scrub(f"error from {uri}: bad", uri_secrets(uri))
        assert all(secret not in scrub(f"it said {secret}", uri_secrets(uri)) for secret in uri_secrets(uri))
    assert mask_uri("mongodb://app:pw@db:27017/?proxyPassword=x1y2z3&w=majority") == \
        "mongodb://app:***@db:27017/?proxyPassword=***&w=majority"
    assert mask_uri("mongodb://db:27017/?directConnection=true") == "mongodb://db:27017/?directConnection=true"
