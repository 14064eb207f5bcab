"""python -m simcore's stdout like the C's: set-up text before the pixel loop, the progress meter, -h.

Progress lines are checked against the C's own stdout (golden cases, and the C-made mask + ROI case,
where masked pixels do not count), never against numbers we computed ourselves.
"""
from __future__ import annotations

import ast
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import simcore.__main__ as cli
from conftest import GOLDEN_DIR
from simcore.argv.flags import C_PATTERNS, HELP, HELP_NAMES, SIMCORE_FLAGS, SIMCORE_HELP, matching_patterns
from simcore.io.progress import ProgressMeter, progress_points

MASK_CASE = Path(__file__).parent / "c_cases" / "c_mask_img_roi"
SMALL = ["-default_F", "100", "-cell", "100", "100", "100", "90", "90", "90", "-detpixels", "32", "-seed", "1"]


def _env():
    return dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))


def _run(args, cwd, **kw):
    return subprocess.run([sys.executable, "-m", "simcore", *args], cwd=cwd, capture_output=True, text=True,
                          env=_env(), timeout=300, **kw)


def _main(args, cwd, monkeypatch) -> str:
    """python -m simcore in this process (torch is imported once for the whole test session)."""
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.chdir(cwd)
    assert cli.main(list(args)) == 0
    return out.getvalue()


def _done_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.endswith("% done")]


@pytest.mark.parametrize("case", ["at001_det64", "feat_roi"])
def test_progress_lines_are_the_c_lines(tmp_path, monkeypatch, case):
    args = (GOLDEN_DIR / case / "args.txt").read_text().split()
    stdout = _main(args + ["-nonoise", "-nopgm"], tmp_path, monkeypatch)
    expected = _done_lines((GOLDEN_DIR / case / "stdout.txt").read_text())
    assert expected and _done_lines(stdout) == expected


def test_progress_counts_rendered_pixels_only(tmp_path, monkeypatch):
    """The C-made -mask -roi case: masked pixels are skipped before the meter counts."""
    for item in MASK_CASE.iterdir():
        shutil.copy2(item, tmp_path)
    stdout = _main((MASK_CASE / "args.txt").read_text().split() + ["-nonoise", "-nopgm"], tmp_path, monkeypatch)
    assert _done_lines(stdout) == _done_lines((MASK_CASE / "stdout.txt").read_text())


@pytest.mark.parametrize("flag", ["-noprogress", "-printout"])
def test_meter_off(tmp_path, monkeypatch, flag):
    assert _done_lines(_main(SMALL + [flag, "-nonoise", "-nopgm"], tmp_path, monkeypatch)) == []


UNNEEDED = ("scipy", "yaml", "pandas", "matplotlib", "rich", "typer", "parity", "numba", "llvmlite")
# tracekit's writer, input check and last-resort handler are simcore's too (the lowest layer); the rest
# of tracekit (catalogue, parsers) is not needed for a run
TRACEKIT_NEEDED = {"tracekit", "tracekit.atomic", "tracekit.inputs", "tracekit.entry", "tracekit.errors"}
_RUN_AND_LIST_MODULES = (
    "import sys\n"
    "import simcore.__main__ as cli\n"
    "code = cli.main(sys.argv[1:])\n"
    "sys.stdout.flush()\n"
    f"print('TRACEKIT', sorted(m for m in sys.modules if m.split('.')[0] == 'tracekit'), file=sys.stderr)\n"
    f"print('IMPORTED', sorted(m for m in {UNNEEDED!r} if m in sys.modules), file=sys.stderr)\n"
    "sys.exit(code)\n")


def test_stdout_order_setup_meter_blank_statistics_and_no_needless_imports(tmp_path):
    """A whole default-output run (noise included) in a fresh process: the C's stdout order, and
    none of the workbench's other dependencies (nor numba, once the kernel is built) imported."""
    proc = subprocess.run([sys.executable, "-c", _RUN_AND_LIST_MODULES, *SMALL], cwd=tmp_path,
                          capture_output=True, text=True, env=_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr
    imported = proc.stderr.splitlines()[-1]
    from simcore.noise import native
    expected = [] if native.backend_used() == "aot" else ["llvmlite", "numba"]
    assert imported == f"IMPORTED {expected}"
    tracekit_line = proc.stderr.splitlines()[-2]
    assert tracekit_line.startswith("TRACEKIT ")
    assert set(ast.literal_eval(tracekit_line.removeprefix("TRACEKIT "))) <= TRACEKIT_NEEDED, tracekit_line
    lines = proc.stdout.splitlines()
    seed_at = lines.index("  seed: -1")
    done_at = [i for i, line in enumerate(lines) if line.endswith("% done")]
    solid_at = next(i for i, line in enumerate(lines) if line.startswith("solid angle subtended"))
    assert lines.index("mosflm convention selected.") < seed_at < done_at[0]
    assert done_at == list(range(done_at[0], done_at[-1] + 1))      # one block, as the C prints it
    assert lines[done_at[-1] + 1] == "" and solid_at == done_at[-1] + 2
    assert lines[-1] == "writing noiseimage.img as 2-byte integers"


def test_setup_text_is_flushed_before_any_pixel_is_computed(monkeypatch, tmp_path):
    import simcore.kernel.render as render_mod

    seen = {}
    real_run = render_mod._run

    def spy(*a, **k):
        seen.setdefault("stdout_at_compute", out.getvalue())
        return real_run(*a, **k)

    out = io.StringIO()
    monkeypatch.setattr(render_mod, "_run", spy)
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.chdir(tmp_path)
    assert cli.main(SMALL + ["-nonoise", "-nopgm"]) == 0
    before = seen["stdout_at_compute"]
    assert "Unit Cell:" in before and "  roi: 0 < x < 32 && 0 < y < 32" in before
    assert "solid angle subtended" not in before and "% done" not in before
    assert "solid angle subtended" in out.getvalue()


def test_progress_points_follow_the_c_rule():
    """The C's test, evaluated at every pixel count, for totals around its thresholds."""
    for total in (99, 100, 101, 199, 200, 1000, 4225, 16641, 12321):
        d20, d100 = total // 20, total // 100
        brute = [p for p in range(total) if d100 > 0 and (
            p % d20 == 0 or ((10 * p < total or 10 * p > 9 * total) and p % d100 == 0))]
        assert progress_points(total) == brute, total


def test_meter_prints_across_chunk_boundaries():
    out = io.StringIO()
    meter = ProgressMeter((0, 9, 0, 9), stream=out)          # 100 pixels: a line at 0..9 and 90..99
    for n in (3, 0, 40, 57):
        meter.advance(n)
    lines = out.getvalue().splitlines()
    assert lines == [f"{p}% done" for p in progress_points(100)]
    assert meter.done == 100


def test_help_lists_every_flag_once_per_handler(tmp_path):
    proc = _run(["-h"], tmp_path)
    assert proc.returncode == 0 and proc.stderr == ""
    text = proc.stdout
    assert "README" not in text
    for pat in C_PATTERNS:
        assert HELP_NAMES.get(pat.text, pat.text) in text, pat.text
    for flag in SIMCORE_FLAGS:
        assert flag in text
    assert set(HELP) == {p.handler for p in C_PATTERNS} and set(SIMCORE_HELP) == set(SIMCORE_FLAGS)
    assert all(text and "\n" not in text for _, text in list(HELP.values()) + list(SIMCORE_HELP.values()))


def test_help_display_names_fire_the_same_handler():
    """A name shown in -h (the full word where the C matches a prefix) reaches the same handler."""
    for pattern_text, shown in HELP_NAMES.items():
        handler = next(p.handler for p in C_PATTERNS if p.text == pattern_text)
        assert handler in [p.handler for p in matching_patterns(shown)], shown


def test_help_into_a_closed_pipe_has_no_traceback(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "simcore", "-h"], cwd=tmp_path, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()                   # the reader is gone before the child writes (| head -0)
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipe" not in err and err == ""
    assert proc.returncode in (0, 141)


def test_help_piped_to_head_one(tmp_path):
    proc = subprocess.run(f"'{sys.executable}' -m simcore -h | head -1", shell=True, cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=60)
    assert proc.stdout.startswith("usage: python -m simcore") and proc.stdout.count("\n") == 1
    assert proc.stderr == ""


def test_output_files_get_the_c_permissions(tmp_path, monkeypatch):
    """fopen(..., "wb") makes 0666 less the umask; a temp file + rename must not leave 0600."""
    _main(SMALL + ["-nonoise", "-nopgm"], tmp_path, monkeypatch)
    umask = os.umask(0o022)
    os.umask(umask)
    for name in ("floatimage.bin", "intimage.img"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask, name


def _setup_block(text: str) -> list[str]:
    """The C's printout from the line after the banner to the last set-up line (blank lines kept)."""
    lines = [ln for ln in text.splitlines()[1:] if not ln.endswith("% done")]
    return lines[: next(i for i, ln in enumerate(lines) if ln.startswith("solid angle subtended"))]


@pytest.mark.parametrize("case", ["at001_det64", "at004_mosflm", "feat_roi"])
def test_setup_block_is_the_c_block_line_for_line(tmp_path, monkeypatch, case):
    """Blank lines included: the C prints one before ``noise image paramters:``."""
    args = (GOLDEN_DIR / case / "args.txt").read_text().split()
    stdout = _main(args + ["-nopgm"], tmp_path, monkeypatch)
    expected = _setup_block((GOLDEN_DIR / case / "stdout.txt").read_text())
    assert "  noise image paramters:" in expected
    if "-seed" not in args:          # the C seeds from the clock: that one line differs run to run
        expected = [ln if not ln.startswith("  seed: ") else "  seed: <clock>" for ln in expected]
        stdout = "\n".join(ln if not ln.startswith("  seed: ") else "  seed: <clock>" for ln in stdout.splitlines())
    assert _setup_block(stdout) == expected
