"""Set-up inputs that come from files or the C random-number generator.

Thin adapters between the set-up sequence and the numpy-only modules (rng, hklio, sourcefile):
the RNG object is created once per run and kept, because the C's ``ran1`` table is shared by
the misset, mosaic and noise streams (trap T-SEEDS).
"""
from __future__ import annotations

import torch

import contextlib

from simcore import vec as V
from simcore.errors import SimcoreInputError, SimcoreOutputError
from simcore.noise.rng import CRandom, CSeeds, setup_draws


@contextlib.contextmanager
def _reading(what: str, path: str):
    """Turn an OS error on an input file into a one-line SimcoreInputError (exit 5)."""
    try:
        yield
    except OSError as exc:
        raise SimcoreInputError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def make_seeds(cargs) -> CSeeds:
    return CSeeds.from_cli(seed=cargs.seed, mosaic_seed=cargs.mosaic_seed, misset_seed=cargs.misset_seed)


def mosaic_and_misset(cargs, sm, params, rng: CRandom, seeds: CSeeds):
    """(misset angles in rad or None, mosaic U matrices (NM,3,3) float64 tensor, notes)."""
    notes: list[str] = []
    draws = setup_draws(misset_random=cargs.misset_mode == "random", mosaic_spread_rad=sm.mosaic_spread_rad,
                        mosaic_domains=sm.mosaic_domains, seeds=seeds, rng=rng)
    misset = None
    if draws.misset_rad is not None:
        misset = tuple(draws.misset_rad)
    elif cargs.misset_mode == "angles":
        misset = tuple(cargs.misset_rad)
    if "misset_rad" in params:
        t = params["misset_rad"]
        misset = (t[0], t[1], t[2])
    umats = torch.as_tensor(draws.mosaic_umats, dtype=V.F64)
    return misset, umats, notes


def load_structure_factors(cargs, fdump_path: str | None, *, dump_dir: str | None = None):
    """(grid or None, description of the source, notes). Reads -hkl (and writes Fdump.bin like
    the C), or a stale Fdump.bin when no -hkl is given (trap T-FDUMP, warned)."""
    notes: list[str] = []
    if cargs.hkl_file is None and fdump_path is None:
        return None, f"default_F {cargs.default_F:g}", notes
    from simcore.io import hkl as hklio

    if cargs.hkl_file is not None:
        with _reading("-hkl file", cargs.hkl_file):
            grid = hklio.read_hkl(cargs.hkl_file, default_F=cargs.default_F)
        notes += [w.removeprefix("WARNING: ") for w in grid.warnings]
        if grid.column_mismatch:
            notes.append(f"{cargs.hkl_file}: {grid.n_odd_lines} line(s) do not hold exactly 4 numbers (h k l F; "
                         f"first: line {grid.odd_lines[0]}): the C reads a stream of 4-number groups, so extra "
                         "columns (phase, sigma) shift every later entry. simcore does the same; fix the file.")
        if dump_dir is not None:
            import os

            try:
                hklio.write_fdump(os.path.join(dump_dir, cargs.dump_file), grid, overwrite=True)   # the C rewrites it
            except (OSError, SimcoreOutputError) as exc:
                notes.append(f"unable to open dump file: {cargs.dump_file} ({getattr(exc, 'strerror', None) or exc})")
        return grid, f"hkl file {cargs.hkl_file}", notes
    notes.append(f"no -hkl given: reading structure factors from {fdump_path} left by an earlier run "
                 "(the C does this even with -default_F; delete the file if it is stale)")
    with _reading("Fdump file", fdump_path):
        grid = hklio.read_fdump(fdump_path)
    return grid, f"Fdump {fdump_path}", notes


def read_sources(cargs, warnings: list) -> list | None:
    """Rows (x, y, z, weight, lambda_m) of -sourcefile, NaN for a missing column; None without one."""
    if cargs.sourcefile is None:
        return None
    from simcore.io import sourcefile

    with _reading("-sourcefile", cargs.sourcefile):
        table = sourcefile.read_source_file(cargs.sourcefile)
    warnings.extend(w.removeprefix("WARNING: ") for w in table.warnings)
    return [tuple(float(v) for v in row) for row in table.columns]
