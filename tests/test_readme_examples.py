"""Every command in the README works as written.

Each ```bash block of README.md is preceded by a marker comment saying how it is checked:

- ``<!-- readme: parse -->``: every ``pwb``/``nb-compare``/``python -m simcore`` command in it must
  parse (the subcommand exists, every option is known, no stray arguments) — for commands that need
  a cluster, hours, or a setup step;
- ``<!-- readme: run -->``: the block also runs, in bash, from a fresh temporary directory that holds a
  ``tests`` link to this checkout's ``tests/`` (the README's paths are relative to a checkout);
- ``<!-- readme: run-c -->``: runs only with the live C (``NB_C_BIN`` and ``NB_C_TRACE_BIN``).

A command whose trailing comment says ``exit N`` must exit with N; every other command must exit 0.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
MARKER = re.compile(r"<!--\s*readme:\s*(parse|run|run-c)\s*-->\s*\n```bash\n(.*?)```", re.S)
COMMENT = re.compile(r"\s{2,}#\s(.*)$")
EXIT = re.compile(r"\bexit (\d+)\b")


def _blocks() -> list[tuple[str, str, int]]:
    text = README.read_text(encoding="utf-8")
    out = []
    for m in MARKER.finditer(text):
        out.append((m.group(1), m.group(2), text[: m.start()].count("\n") + 1))
    return out


def _lines(block: str) -> list[tuple[str, int]]:
    """(command, expected exit code) for each non-comment line; continuations joined."""
    joined = block.replace("\\\n", " ")
    out = []
    for raw in joined.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        m = COMMENT.search(raw)
        cmd, note = (raw[: m.start()], m.group(1)) if m else (raw, "")
        e = EXIT.search(note)
        out.append((cmd.strip(), int(e.group(1)) if e else 0))
    return out


def test_readme_has_checked_blocks():
    """Every bash block carries a marker, so none escapes this test."""
    text = README.read_text(encoding="utf-8")
    assert text.count("```bash") == len(_blocks()) >= 8


# -- parse: options and subcommands exist ------------------------------------------------------

def _pwb_leaf(argv: list[str]):
    import typer
    from cli.app import app
    cmd, name = typer.main.get_command(app), "pwb"
    while hasattr(cmd, "resolve_command"):
        ctx = cmd.make_context(name, list(argv), resilient_parsing=True)
        rest = list(ctx._protected_args) + list(ctx.args)
        name, sub, argv = cmd.resolve_command(ctx, rest)
        assert sub is not None, f"no such pwb command {name!r}"
        cmd = sub
    return cmd, name, argv


def _nbcompare_leaf(argv: list[str]):
    import typer
    from cli.compare import HELP, NbCompareCommand, compare
    app = typer.Typer(add_completion=False)
    app.command(cls=NbCompareCommand, help=HELP)(compare)
    return typer.main.get_command(app), "nb-compare", argv


def _check_parses(words: list[str]) -> None:
    while words and re.match(r"^[A-Z_]+=", words[0]):       # VAR=value prefixes
        words = words[1:]
    if not words:
        return
    if words[0] == "pwb":
        cmd, name, argv = _pwb_leaf(words[1:])
    elif words[0] == "nb-compare":
        cmd, name, argv = _nbcompare_leaf(words[1:])
    elif words[:3] == ["python", "-m", "simcore"]:
        from simcore.argv.parse import parse_argv
        from simcore.errors import SimcoreUsageError
        args = [w for w in words[3:] if not w.startswith("$")]
        if args and args != ["-h"]:
            try:
                parse_argv(args)
            except SimcoreUsageError as exc:   # missing input files are the run's business, not the README's
                assert "unknown" not in str(exc).lower(), exc
        return
    else:
        return
    from typer._click import exceptions as cx
    try:
        cmd.make_context(name, list(argv))
    except (cx.NoSuchOption, cx.NoArgsIsHelpError) as exc:
        raise AssertionError(f"{' '.join(words)}: {exc}") from exc
    except cx.UsageError as exc:
        msg = exc.format_message()
        assert "unexpected extra" not in msg and "No such" not in msg, f"{' '.join(words)}: {msg}"
    except cx.BadParameter:
        pass                                      # a placeholder path that does not exist here


def _words(cmd: str) -> list[list[str]]:
    out = []
    for part in re.split(r"\s&&\s|\s\|\s", cmd):
        part = re.sub(r"\$\([^)]*\)", "X", part)
        try:
            out.append(shlex.split(part))
        except ValueError as exc:
            raise AssertionError(f"{cmd}: {exc}") from exc
    return out


@pytest.mark.parametrize("mode,block,line", _blocks(), ids=lambda v: str(v) if isinstance(v, int) else None)
def test_readme_block_parses(mode, block, line):
    cmds = _lines(block)
    assert cmds, f"README line {line}: empty block"
    for cmd, _ in cmds:
        for words in _words(cmd):
            _check_parses(words)


# -- run: the block does what it says -----------------------------------------------------------

def _script(block: str) -> str:
    body = ["set -o pipefail"]
    for cmd, code in _lines(block):
        body.append(cmd)
        body.append(f'__rc=$?; if [ $__rc -ne {code} ]; then echo "README: exit $__rc (expected {code}):" '
                    f'{shlex.quote(cmd)} >&2; exit 99; fi')
    return "\n".join(body) + "\n"


RUN_BLOCKS = [(m, b, ln) for m, b, ln in _blocks() if m != "parse"]


@pytest.mark.parametrize("mode,block,line", RUN_BLOCKS, ids=lambda v: str(v) if isinstance(v, int) else None)
def test_readme_block_runs(mode, block, line, tmp_path):
    if mode == "run-c" and not (os.environ.get("NB_C_BIN") and os.environ.get("NB_C_TRACE_BIN")):
        pytest.skip("needs the live C: set NB_C_BIN and NB_C_TRACE_BIN")
    if shutil.which("pwb") is None:
        pytest.skip("pwb is not on PATH (install the workbench)")
    work = tmp_path / "work"
    work.mkdir()
    (work / "tests").symlink_to(REPO / "tests")
    env = dict(os.environ, COLUMNS="100", HOME=str(tmp_path / "home"),
               SIMCORE_CACHE_DIR=os.environ.get("SIMCORE_CACHE_DIR", str(Path.home() / ".cache" / "simcore")),
               TMPDIR=str(tmp_path), PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    env.pop("PWB_WORKSPACE", None)
    (tmp_path / "home").mkdir()
    proc = subprocess.run(["bash", "-c", _script(block)], cwd=work, env=env, capture_output=True,
                          text=True, timeout=1500)
    assert proc.returncode == 0, f"README line {line}:\n{proc.stderr[-3000:]}\n{proc.stdout[-2000:]}"
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert not (REPO / "tests" / "golden_data" / "at004_mosflm" / "py.bin").exists()
