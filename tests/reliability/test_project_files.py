"""The files runway reads and writes in the project folder, as a hostile or unlucky folder holds them.

Every file runway reads (the configuration, found or named; migration files; the scan cache) must be a
regular file of a bounded size: a FIFO would hang every command, a link to an endless device would
exhaust memory. Each is refused in one line (exit 2), or shown as a broken migration. Discovery of a
`mongorunway.yaml` never picks a dependency's file inside a virtualenv, and prefers the shallowest.
A full disk under `new` or the scan cache is one line and no litter; a name with non-ASCII letters says
what the file name keeps.

Commands run in a real process (`python -m runway_tui`) in the project's folder, with an address-space
limit so that a file read without bound fails the test instead of the machine. A full disk is simulated
with RLIMIT_FSIZE=0: the file system then refuses every write (EFBIG) as a full disk does (ENOSPC),
after the file was created, which is what a full disk with free inodes does.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reliability.helpers import cli_env, no_traceback, one_line_error
from tests.support.mongorunway_peer import host_and_port
from tests.support.project import Project

MEMORY_GUARD = 1024 * 1024 * 1024  # 1 GiB of address space: far more than a command needs


def runway(cwd: Path, *args: str, env: dict[str, str] | None = None, full_disk: bool = False,
           timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """`runway-tui ARGS` in `cwd` (no --config unless given), bounded in memory; a hang fails the test."""
    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_GUARD, MEMORY_GUARD))
        if full_disk:
            resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))

    base = {k: v for k, v in cli_env(env).items() if k not in ("RUNWAY_CONFIG", "RUNWAY_APP")}
    base.update(env or {})
    return subprocess.run([sys.executable, "-m", "runway_tui", *args], cwd=cwd, env=base, preexec_fn=limits,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)


def mongorunway_yaml(folder: Path, uri: str, app: str, database: str) -> Path:
    """A minimal Mongorunway configuration naming its own application (to tell which file was chosen)."""
    host, port = host_and_port(uri)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "mongorunway.yaml"
    path.write_text("mongorunway:\n  filesystem:\n    scripts_dir: migrations\n  applications:\n"
                    f"    {app}:\n      app_client:\n        host: {host}\n        port: {port}\n"
                    f"      app_database: {database}\n      app_repository:\n        collection: migrations\n"
                    "      app_auditlog_journal:\n        collection: auditlog\n      use_auditlog: true\n",
                    encoding="utf-8")
    return path


def assert_refused(result: subprocess.CompletedProcess[str], *phrases: str) -> str:
    no_traceback(result.stdout, result.stderr)
    assert result.returncode == 2, (result.returncode, result.stderr)
    line = one_line_error(result.stderr) if "error:" in result.stderr else result.stderr.strip()
    assert result.stderr.strip().count("\n") == 0, result.stderr
    for phrase in phrases:
        assert phrase in line, line
    return line


# ------------------------------------------------------------------ configurations that are not regular files
def fifo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


def endless_link(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to("/dev/zero")
    return path


def huge_sparse(path: Path) -> Path:
    """A regular file of 3 GiB (sparse: costs nothing on disk), e.g. a log renamed by mistake."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.truncate(3 * 1024**3)
    return path


CONFIG_CASES = [
    # id, what to make (relative to the folder), how it is named to runway, the words of the refusal
    ("discovered-fifo", fifo, "sub/mongorunway.yaml", None, ("sub/mongorunway.yaml", "named pipe (FIFO)")),
    ("discovered-link-to-dev-zero", endless_link, "sub/mongorunway.yml", None,
     ("sub/mongorunway.yml", "character device")),
    ("discovered-huge-file", huge_sparse, "mongorunway.yaml", None, ("mongorunway.yaml", "3 GiB", "1 MiB")),
    ("runway-yaml-fifo", fifo, "runway.yaml", None, ("runway.yaml", "named pipe (FIFO)")),
    ("runway-yaml-link-to-dev-zero", endless_link, "runway.yaml", None, ("runway.yaml", "character device")),
    ("config-flag-fifo", fifo, "settings.yaml", "--config", ("settings.yaml", "named pipe (FIFO)")),
    ("config-flag-dev-zero", None, "/dev/zero", "--config", ("/dev/zero", "character device")),
    ("config-env-fifo", fifo, "settings.yaml", "RUNWAY_CONFIG", ("settings.yaml", "named pipe (FIFO)")),
    ("config-flag-huge", huge_sparse, "settings.yaml", "--config", ("settings.yaml", "3 GiB", "1 MiB")),
]


@pytest.mark.parametrize(("make", "name", "given", "says"), [c[1:] for c in CONFIG_CASES],
                         ids=[c[0] for c in CONFIG_CASES])
@pytest.mark.parametrize("command", ["status", "new"])
def test_a_configuration_that_is_not_a_regular_file_is_one_line_and_exit_2(
        make, name: str, given: str | None, says: tuple[str, ...], command: str, tmp_path: Path) -> None:
    target = Path(name) if name.startswith("/") else tmp_path / name
    if make is not None:
        make(target)
    args = ["--config", str(target)] if given == "--config" else []
    env = {"RUNWAY_CONFIG": str(target)} if given == "RUNWAY_CONFIG" else None
    command_args = [command] + (["add_index"] if command == "new" else [])
    result = runway(tmp_path, *args, *command_args, env=env)
    line = assert_refused(result, *says)
    assert "regular file" in line or "limit" in line, line
    assert not (tmp_path / "migrations").exists(), "nothing may be created"


# ------------------------------------------------------------------ migration files and the scan cache
GOOD = '''"""Good step {v}"""
version = {v}


def upgrade(ctx):
    ctx.db.markers.insert_one({{"v": {v}}}, session=ctx.session)


def downgrade(ctx):
    ctx.db.markers.delete_one({{"v": {v}}}, session=ctx.session)
'''


def test_a_migration_file_that_is_a_fifo_is_a_broken_file_never_a_hang(project: Project, mongo_client) -> None:
    project.write_migration(1, "good", GOOD.format(v=1))
    fifo(project.scripts_dir / "002_pipe.py")
    (project.scripts_dir / "003_link.py").symlink_to("002_pipe.py")  # inside the folder, to the FIFO
    status = runway(project.root, "--config", str(project.config_path), "status", "--json")
    assert status.returncode == 0, status.stderr
    rows = {row["name"]: row for row in json.loads(status.stdout)["migrations"]}
    for name in ("002_pipe", "003_link"):
        assert rows[name]["state"] == "broken", rows
        assert "named pipe (FIFO)" in json.dumps(rows[name]), rows[name]
    up = runway(project.root, "--config", str(project.config_path), "up", "--all")
    no_traceback(up.stdout, up.stderr)
    assert up.returncode == 4, up.stderr  # a broken file blocks the run
    assert "002_pipe" in up.stderr
    assert mongo_client[project.db_name].markers.count_documents({}) == 0


def test_a_scan_cache_that_is_a_fifo_is_ignored(project: Project) -> None:
    project.write_migration(1, "good", GOOD.format(v=1))
    fifo(project.root / ".runway" / "scan-cache.json")
    result = runway(project.root, "--config", str(project.config_path), "status")
    assert result.returncode == 0, result.stderr
    assert "001_good" in result.stdout


def test_a_full_disk_leaves_no_scan_cache_litter(project: Project) -> None:
    """Every command that finds new files saves the scan cache; on a full disk it cannot, and leaves nothing."""
    for v in (1, 2, 3):
        project.write_migration(v, f"good_{v}", GOOD.format(v=v))
    for _ in range(3):
        result = runway(project.root, "--config", str(project.config_path), "status", full_disk=True)
        assert result.returncode == 0, result.stderr
        assert "003_good_3" in result.stdout
    assert [p.name for p in (project.root / ".runway").glob("*")] == []  # no temporary file left behind


def test_new_on_a_full_disk_is_one_line_and_leaves_no_file(project: Project) -> None:
    result = runway(project.root, "--config", str(project.config_path), "new", "add_index", full_disk=True)
    line = assert_refused(result, f"{project.scripts_dir}: cannot write 001_add_index.py: ")
    assert "internal error" not in line
    assert list(project.scripts_dir.iterdir()) == []
    again = runway(project.root, "--config", str(project.config_path), "new", "add_index")
    assert again.returncode == 0, again.stderr
    assert [p.name for p in project.scripts_dir.iterdir()] == ["001_add_index.py"]


# ------------------------------------------------------------------ names of new migrations
NAMES = [
    # what the user typed, the file it gives, a note on stderr (None: no note)
    ("é", "001_e.py", "é -> e"),
    ("Café crème", "001_cafe_creme.py", "é -> e"),
    ("straße Ærø", "001_strasse_aero.py", "ß -> ss"),
    ("add 用户 index", "001_add_index.py", "用户"),
    ("add_user_index", "001_add_user_index.py", None),
    ("Add users: email index!", "001_add_users_email_index.py", None),
]


@pytest.mark.parametrize(("name", "file_name", "note"), NAMES, ids=[n[1] for n in NAMES])
def test_new_says_what_a_file_name_keeps_of_the_name(name: str, file_name: str, note: str | None,
                                                      project: Project) -> None:
    result = runway(project.root, "--config", str(project.config_path), "new", name)
    no_traceback(result.stderr)
    assert result.returncode == 0, result.stderr
    assert [p.name for p in project.scripts_dir.iterdir()] == [file_name]
    assert result.stdout == f"created {project.scripts_dir / file_name}\n"
    if note is None:
        assert result.stderr == ""
    else:
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("note: "), result.stderr
        assert note in result.stderr and file_name[4:-3] in result.stderr, result.stderr
    text = (project.scripts_dir / file_name).read_text(encoding="utf-8")
    assert f'"""{name}"""' in text  # the description keeps the name as typed


def test_new_with_a_name_a_file_name_cannot_hold_says_why(project: Project) -> None:
    result = runway(project.root, "--config", str(project.config_path), "new", "日本語")
    line = assert_refused(result, "'日本語'", "ASCII", "--description")
    assert "has no letters or digits" not in line  # it has letters: ones a file name cannot keep
    assert list(project.scripts_dir.iterdir()) == []


# ------------------------------------------------------------------ discovery of mongorunway.yaml
def _chosen(folder: Path) -> str:
    (folder / "migrations").mkdir(exist_ok=True)  # scripts_dir is relative to the current folder (Mongorunway's rule)
    result = runway(folder, "status", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["application"]


def _virtualenv(root: Path, name: str) -> Path:
    """A virtualenv as `python -m venv` makes it (a pyvenv.cfg); a dependency's data files in `share/`."""
    (root / name).mkdir(parents=True)
    (root / name / "pyvenv.cfg").write_text("home = /usr/bin\ninclude-system-site-packages = false\n")
    return root / name / "share" / "somedep"


@pytest.mark.parametrize("venv_name", ["venv", "env", ".tox-py311", "virtualenv"])
def test_discovery_never_picks_a_file_inside_a_virtualenv(venv_name: str, tmp_path: Path, mongo_uri: str,
                                                          db_name: str) -> None:
    mongorunway_yaml(_virtualenv(tmp_path, venv_name), mongo_uri, "dependency", db_name)
    (tmp_path / "migrations").mkdir()
    assert_refused(runway(tmp_path, "status"), "no configuration found")
    mongorunway_yaml(tmp_path / "zz" / "deeper" / "project", mongo_uri, "project", db_name)  # deeper than the venv's
    assert _chosen(tmp_path) == "project"


def test_discovery_never_picks_a_file_inside_site_packages(tmp_path: Path, mongo_uri: str, db_name: str) -> None:
    """Packages installed with `pip install --target lib` or a conda environment: no pyvenv.cfg, site-packages."""
    mongorunway_yaml(tmp_path / "lib" / "site-packages" / "somedep", mongo_uri, "dependency", db_name)
    mongorunway_yaml(tmp_path / "lib" / "dist-packages" / "otherdep", mongo_uri, "debian", db_name)
    (tmp_path / "migrations").mkdir()
    result = runway(tmp_path, "status")
    assert_refused(result, "no configuration found")


def test_discovery_prefers_the_shallowest_file(tmp_path: Path, mongo_uri: str, db_name: str) -> None:
    mongorunway_yaml(tmp_path / "a" / "examples" / "demo", mongo_uri, "deep", db_name)
    mongorunway_yaml(tmp_path / "z", mongo_uri, "shallow", db_name)
    assert _chosen(tmp_path) == "shallow"
    mongorunway_yaml(tmp_path, mongo_uri, "own", db_name)
    assert _chosen(tmp_path) == "own"


def test_a_certificate_file_that_is_a_fifo_is_named_in_one_line(project: Project) -> None:
    """A file the configuration names for the driver (tlsCAFile) is checked the same way: the driver would
    block on a FIFO while connecting."""
    ca = fifo(project.root / "ca.pem")
    text = project.config_path.read_text()
    project.config_path.write_text(text.replace(project.uri, f"{project.uri}&tls=true&tlsCAFile={ca}"))
    result = runway(project.root, "--config", str(project.config_path), "status")
    assert_refused(result, "tlsCAFile", "ca.pem", "named pipe (FIFO)")
