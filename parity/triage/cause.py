"""The cause a triage names, from its evidence in order of strength, and what to check next.

=========  ====================================================================================
1 trace    the traced pixels' most common first divergence (a live trace): its hint class. A
           trace that is not live (``trace_inconsistent``), or one that differs only in its final
           value (:data:`FINAL_TAPS`: it says *that* the pixel differs, not where), while a
           geometric difference explains the image, is that geometric defect (source
           ``image+trace``): an orientation means the trace is right and the image is not
2 image    a geometric difference that explains the image (score ≥ 0.9): an orientation
           (``image_orientation``), a half-pixel shift (``half_pixel``), another shift
           (``beam_center``)
3 config   a configuration key that differs (pivot, beam centre, sampling counts, fluence...)
4 image    the classification alone (a constant ratio: ``unit_power_of_ten`` when a power of ten,
           else ``constant_factor``; a radial ratio: ``constant_factor``, a factor left out):
           named, but not *located*
=========  ====================================================================================

Sources 1-3 *locate* the divergence (``pwb triage`` exit 1); 4 does not (exit 3). Classes are the
canonical hint classes of tracekit plus ``image_orientation``; :data:`DEFECT_CLASS` gives the defect
class of ``docs/ports.md`` each one points to.
"""
from __future__ import annotations

__all__ = ["DEFECT_CLASS", "CHECKS", "defect_words", "decide_cause", "next_steps", "CONFIG_CAUSES", "FINAL_TAPS"]

#: taps that hold only the pixel's final value: a divergence there names no place in the computation
FINAL_TAPS = frozenset({"I_pixel_final", "floatimage_accumulated"})

DEFECT_CLASS = {
    "detector_pivot": "detector pivot", "beam_center": "beam centre convention",
    "half_pixel": "beam centre convention", "swapped_components": "beam centre convention",
    "float32_precision": "float32 precision", "precision": "float32 precision",
    "phi0_carryover": "rotation order / phi=0 carry-over", "mosaic_rng": "mosaic RNG",
    "unit_power_of_ten": "unit mismatch", "unit_factor": "unit mismatch", "constant_factor": "factor left out",
    "sampling": "sampling rule", "trace_inconsistent": "trace not the live computation",
    "image_orientation": "image orientation", "non_finite": "non-finite values", "sign_flip": "sign or axis direction",
    "unknown": "unknown",
}
#: what to check, for the classes tracekit's hints do not carry a check sentence for (before its hint classes)
CHECKS = {
    "image_orientation": "check the order your port writes the image in: slow is the outer (row) index, fast the"
                         " inner; a transposed or flipped array closes on the diagonal only",
    "half_pixel": "check the beam-centre convention: MOSFLM adds half a pixel (Fbeam = Ybeam + 0.5 px)",
    "beam_center": "check how -Xbeam/-Ybeam become Fbeam/Sbeam in this convention (swap, +0.5 px, flips)",
    "unit_power_of_ten": "check the unit of the factor that carries the ratio (mm vs m, A vs m, per m^2 vs per mm^2)",
    "constant_factor": "check the scale factors: polarization, solid angle / obliquity, capture fraction, fluence,"
                       " r_e^2, 1/steps",
    "detector_pivot": "check which pivot the port uses: -twotheta/-close_distance select SAMPLE only under CUSTOM",
    "sampling": "check the sampling rule: auto-oversample, sub-pixel positions, thickness steps, steps",
}
#: configuration keys (tracekit's config names) -> the class a difference there points to
CONFIG_CAUSES = {
    "detector_pivot": "detector_pivot", "detector_pix0_vector_m": "detector_pivot", "Fbeam_m": "beam_center",
    "Sbeam_m": "beam_center", "Xbeam_m": "beam_center", "Ybeam_m": "beam_center", "convention": "beam_center",
    "oversample": "sampling", "oversample_auto": "sampling", "phi_steps": "sampling", "sources": "sampling",
    "mosaic_domains": "sampling", "divergence_steps": "sampling", "detector_thicksteps": "sampling",
    "dispersion_steps": "sampling", "fluence_photons_per_m2": "constant_factor", "kahn_polarization": "constant_factor",
    "polarization_disabled": "constant_factor", "point_pixel": "constant_factor", "distance_m": "unit_power_of_ten",
    "pixel_m": "unit_power_of_ten", "lambda0_m": "unit_power_of_ten",
}


def defect_words(klass: str | None) -> str:
    words = DEFECT_CLASS.get(klass or "unknown", klass or "unknown")
    return words if klass in (None, "unknown") or words == klass.replace("_", " ") else f"{words} ({klass})"


def _cause(klass: str, source: str, text: str, located: bool, **extra) -> dict:
    return {"class": klass, "defect_class": DEFECT_CLASS.get(klass, "unknown"), "source": source, "text": text,
            "located": located, **extra}


def _geometric(classification) -> tuple[str, str] | None:
    from parity.images.metrics import ORIENTATIONS

    geo = classification.get("geometric") if classification is not None else None
    if geo is None or not geo.applies or geo.score < 0.9:
        return None
    best = geo.numbers.get("best")
    if best in ORIENTATIONS:
        return "image_orientation", geo.text
    if best == "subpixel_shift" and geo.numbers["shift"]["half_pixel"]:
        return "half_pixel", geo.text
    return "beam_center", geo.text


def _config_cause(config: dict | None) -> tuple[str, str] | None:
    if not config or not config.get("available"):
        return None
    for row in config.get("differences") or []:
        klass = CONFIG_CAUSES.get(row["key"])
        if klass is not None:
            return klass, f"the configurations differ in {row['key']}: reference {row['ref']}, candidate {row['cand']}"
    return None


def _image_cause(classification) -> tuple[str, str] | None:
    primary = classification.primary if classification is not None else None
    if primary is None:
        return None
    if primary.name == "constant_ratio":
        klass = "unit_power_of_ten" if primary.numbers.get("power_of_ten") else "constant_factor"
        return klass, primary.text
    if primary.name == "radial":
        return "constant_factor", primary.text + " (a factor left out varies smoothly across the detector)"
    return None


def decide_cause(classification, aggregate: dict, config: dict | None) -> dict:
    """The cause (module table): ``{class, defect_class, source, text, located, ...}``."""
    geometric = _geometric(classification)
    if aggregate.get("tap"):
        klass = aggregate.get("hint_class") or "unknown"
        if klass == "trace_inconsistent" and geometric and geometric[0] == "image_orientation":
            return _cause("image_orientation", "image+trace", geometric[1] + "; the traces are the reference's at"
                          " each pixel but do not close with the candidate image", True)
        if aggregate["tap"] in FINAL_TAPS and geometric:
            return _cause(geometric[0], "image+trace", f"{geometric[1]}; the traces differ only in the final"
                          f" value ({aggregate['tap']})", True, tap=aggregate["tap"])
        return _cause(klass, "trace", aggregate["text"], True, tap=aggregate["tap"])
    if geometric:
        return _cause(geometric[0], "image", geometric[1], True)
    config_cause = _config_cause(config)
    if config_cause:
        return _cause(config_cause[0], "config", config_cause[1], True)
    image = _image_cause(classification)
    if image:
        return _cause(image[0], "image", image[1], False)
    return _cause("unknown", "none", "no trace divergence, no configuration difference and no image class that"
                  " names a cause", False)


def next_steps(cause: dict, aggregate: dict, *, config: dict | None, pixels, pair_notes: list[str],
               shrink_command: str | None) -> list[str]:
    """What to check next, most specific first."""
    steps: list[str] = []
    hint = aggregate.get("hint") or {}
    check = hint.get("check") if cause["source"] == "trace" else None
    check = check or CHECKS.get(cause["class"])
    if check:
        steps.append(check[0].upper() + check[1:])
    if cause["source"] == "trace" and aggregate.get("tap"):
        steps.append(f"Read the inputs of {aggregate['tap']} in the first traced pixel's diff (the context rows"
                     " above it): the first of them that differs is where to look")
    if config and config.get("available") and config.get("differences"):
        keys = ", ".join(r["key"] for r in config["differences"][:5])
        steps.append(f"The two ports parsed the arguments differently ({keys}): fix that first")
    steps += [n[0].upper() + n[1:] for n in pair_notes if n]
    if any(p.status == "error" for p in pixels):
        steps.append("Some pixels could not be traced (see the pixel table): fix the trace run, then triage again")
    if not cause["located"] and shrink_command:
        steps.append(f"Reduce the arguments to the flags that matter: {shrink_command}")
    elif shrink_command:
        steps.append(f"Find which flags trigger it: {shrink_command}")
    return steps
