"""Pixel-block bookkeeping of the text parser: which block (and pixel) a record belongs to, and
the loop index it gets there.

The C prints one block (groups A-D) per (layer, sub_s, sub_f), then group E once per pixel. A
block ends when one of its taps repeats (the C prints each once per block), so a port that prints
the C's taps in another order still gives one block per sub-pixel. A pixel ends at a closing tap
(``I_pixel_final``, ``floatimage_accumulated``) or after a run of three or more group-E taps: one
or two E taps printed inside a block (``steps`` up front) do not split it. Per-phi, SOURCE2 and
TAP5_HKL lines printed after group E (a port's trailing section) join the last block.

Each block gets (layer, sub_s, sub_f) from the trace's own header lines (oversample and layer
counts), else an ordinal in ``occurrence`` ("headerless": the diff aligns such blocks later).
"""
from __future__ import annotations

from tracekit.records import SETUP_INDEX, LoopIndex
from tracekit.stream_state import ParseStats

CLOSING_TAPS = frozenset({"I_pixel_final", "floatimage_accumulated"})
C_CLOSING_TAP = "floatimage_accumulated"
_E_RUN_ENDS_PIXEL = 3


class BlockTracker:
    """Block and pixel state while a text trace streams by (see module docstring)."""

    def __init__(self, stats: ParseStats) -> None:
        self.stats = stats
        self.pixel = 0           # pixel ordinal in the file
        self.blocks = 0          # blocks in the current pixel
        self.global_block = 0
        self.in_block = False
        self.seen: set = set()
        self.e_run = 0           # group-E taps since the last block record
        self.pixel_closed = False
        self.closed = True       # C rule: no block open, or the last one closed by floatimage_accumulated
        self.block_line = 0
        self.block_lsf: tuple[int | None, int | None, int | None] = (None, None, None)
        self.idx_src0 = self.idx_mos0 = self.idx_src2 = self.idx_sub = SETUP_INDEX

    def enter(self, key, n: int, *, trailing: bool = False) -> None:
        """A block record keyed `key` (a tap name, or ("phi", tic)) at line `n`: stay in the
        current block, or start the next one. `trailing` records join the last block even after
        group E (a port's per-phi section after its block)."""
        if self.in_block:
            if trailing and self.e_run:
                self.seen.add(key)
                return
            if key not in self.seen and not self.pixel_closed and self.e_run < _E_RUN_ENDS_PIXEL:
                self.seen.add(key)
                self.e_run = 0
                return
        self.start(n)
        self.seen = {key}

    def e_tap(self, tap: str) -> LoopIndex:
        """A group-E record; returns its loop index (per pixel)."""
        if self.in_block:
            self.e_run += 1
        if tap == C_CLOSING_TAP:
            self.closed = True
        if tap in CLOSING_TAPS and self.in_block:
            self.pixel_closed = True
        return LoopIndex(occurrence=self.pixel) if self.pixel else SETUP_INDEX

    def pixel_index(self) -> LoopIndex:
        """Index of a pixel-level record that is not group E (unknown names outside a block)."""
        return LoopIndex(occurrence=self.pixel)

    def start(self, n: int) -> None:
        """Open the next block (and the next pixel after a closed one)."""
        if self.in_block and (self.pixel_closed or self.e_run >= _E_RUN_ENDS_PIXEL):
            self.pixel += 1
            self.blocks = 0
        b = self.blocks
        self.blocks += 1
        if b == 0:
            self.stats.blocks_per_pixel.append(0)
        self.stats.blocks_per_pixel[-1] = self.blocks
        os_, layers = self.stats.oversample, self.stats.layers
        if os_ and layers:
            layer, rem = divmod(b, os_ * os_)
            lsf: tuple = (layer, rem // os_, rem % os_)
            occ = self.pixel
        else:
            lsf, occ = (None, None, None), self.global_block
        self.global_block += 1
        self.block_lsf = lsf
        self.idx_sub = LoopIndex(*lsf, occurrence=occ)
        self.idx_src0 = LoopIndex(*lsf, 0, None, None, occ)
        self.idx_mos0 = LoopIndex(*lsf, 0, 0, 0, occ)
        self.idx_src2 = LoopIndex(*lsf, 2, 0, 0, occ)
        self.in_block = True
        self.closed = False
        self.pixel_closed = False
        self.e_run = 0
        self.block_line = n

    def ends_open(self) -> bool:
        """True when the trace ended inside a block (no group-E record after its last block)."""
        return self.in_block and self.e_run == 0 and not self.pixel_closed
