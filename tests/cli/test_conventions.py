"""CLI conventions hold for every command: -h, --version, -o/--output (with --out kept),
-j/--workers, --device auto, -q/--quiet; errors name options that exist."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from spectype import __version__
from spectype.cli import app

# classify's options belong to the classify command's owner; checked there.
NOT_HERE = {"classify"}


# Duck-typed: typer ships its own copy of click, so isinstance checks against `click` fail.
def _commands() -> dict:
    root = typer.main.get_command(app)
    out = {}
    for name, cmd in root.commands.items():
        if hasattr(cmd, "commands"):  # a sub-app such as `gan`
            out.update({f"{name} {sub}": c for sub, c in cmd.commands.items()})
        else:
            out[name] = cmd
    return out


def _option(cmd, flag: str):
    for p in cmd.params:
        if p.param_type_name == "option" and flag in [*p.opts, *p.secondary_opts]:
            return p
    return None


def test_the_checks_see_options():
    cmds = _commands()
    assert {"simulate", "gan train", "fetch", "train"} <= set(cmds)
    assert _option(cmds["simulate"], "--data-root") is not None
    assert _option(cmds["gan train"], "-o") is _option(cmds["gan train"], "--out")


def test_version_and_short_help():
    r = CliRunner().invoke(app, ["--version"])
    assert r.exit_code == 0 and __version__ in r.output
    r = CliRunner().invoke(app, ["-h"])
    assert r.exit_code == 0 and "Commands" in r.output and "fetch" in r.output


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_command_takes_dash_h(name):
    r = CliRunner().invoke(app, [*name.split(), "-h"])
    assert r.exit_code == 0, r.output
    assert "Usage" in r.output


def test_shared_option_names():
    problems = []
    for name, cmd in _commands().items():
        if name in NOT_HERE:
            continue
        out = _option(cmd, "--out") or _option(cmd, "--output")
        if out is not None and not {"-o", "--output", "--out"} <= set(out.opts):
            problems.append(f"{name}: output option is {out.opts}")
        workers = _option(cmd, "--workers")
        if workers is not None and "-j" not in workers.opts:
            problems.append(f"{name}: --workers without -j")
        dev = _option(cmd, "--device")
        if dev is not None and dev.default not in ("auto", None):
            problems.append(f"{name}: --device defaults to {dev.default}")
        prog = _option(cmd, "--no-progress")
        if prog is not None and prog.default is True and _option(cmd, "-q") is None:
            problems.append(f"{name}: progress switch without -q/--quiet")
    assert not problems, problems


def test_commands_needing_data_say_data_root(tmp_path, monkeypatch):
    monkeypatch.delenv("SPECTYPE_DATA", raising=False)
    monkeypatch.delenv("SPECTYPE_SHARED_DATA", raising=False)
    monkeypatch.chdir(tmp_path)  # no ../shared/data from here
    r = CliRunner().invoke(app, ["simulate", "-o", str(tmp_path / "s.h5"), "--per-class", "1"])
    assert r.exit_code == 2 and "--data-root" in r.output and "library-root" not in r.output
    r = CliRunner().invoke(app, ["demo", "-o", str(tmp_path / "demo")])
    assert r.exit_code == 2 and "--data-root" in r.output


def test_python_m_demo_without_data_has_no_traceback(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    r = subprocess.run([sys.executable, "-m", "spectype.demo", "-o", str(tmp_path / "o")],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and "--data-root" in r.stderr


# Options of other programs that messages and docstrings mention on purpose.
FOREIGN_OPTIONS = {"--nproc_per_node"}  # torchrun


def test_every_option_named_in_src_exists():
    """A hint like 'pass --library-root' for an option no command has sends users nowhere."""
    import re
    from pathlib import Path

    import spectype

    known = {"--help"}
    stack = [typer.main.get_command(app)]
    while stack:
        cmd = stack.pop()
        for p in cmd.params:
            known.update(p.opts)
            known.update(p.secondary_opts)
        stack.extend(getattr(cmd, "commands", {}).values())
    unknown = []
    for path in Path(spectype.__file__).parent.rglob("*.py"):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            for flag in re.findall(r"(?<![\w-])(--[a-z][a-z0-9_-]*[a-z0-9])", line):
                if flag not in known and flag not in FOREIGN_OPTIONS:
                    unknown.append(f"{path.name}:{n}: {flag}")
    assert not unknown, unknown
