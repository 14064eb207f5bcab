"""A stand-in for a nanoBragg runner in nb-compare/matrix tests (no physics).

The tests copy this file into tmp_path with a ``#!<python>`` line and make it executable. Its
behaviour comes from ``<its own path>.json`` (all keys optional):

    exit          exit code (default 0)          stderr   text written to stderr
    image         "spot" | "spot_shifted" | "noise" | "zeros" | "copy" | "grid16" (default "spot");
                  grid16: a spot drawn on a 16 x 16 grid and enlarged by whole pixels (nearest
                  neighbour resampling back to 16 x 16 gives it exactly)
    copy_from     float32 file to copy for image "copy"
    shape         [slow, fast] written instead of the shape the arguments give
    scale         factor applied to the image
    record        path of a JSON file receiving {"argv", "cwd_files", "inputs"}
    write_files   names created in the cwd (e.g. "Fdump.bin")
    fail_if_present  names whose presence in the cwd makes it exit 9 (leak detector)
    record_env    environment variable names recorded under "env" in the record file
    spawn_sleeper path of a file receiving the pid of a child it starts (sleeps 300 s), then it sleeps too
    extra_peaks   [[slow, fast, amplitude], ...] small spots added to the image
    extra_peak_sigma2  their width: exp(-d^2 / extra_peak_sigma2) (default 2, d in pixels)
    extra_peak_scale  factor applied to the extra peaks only (a port weak at high resolution)
    trace         when -trace_pixel S F is given, print TRACE_C lines for that pixel (the image value
                  times "trace_scale", default 1) with this prefix (e.g. "TRACE_C")
"""
import json
import os
import shutil
import sys
from pathlib import Path

cfg_path = Path(os.path.realpath(__file__) + ".json")
cfg = json.loads(cfg_path.read_text()) if cfg_path.is_file() else {}
argv = sys.argv[1:]
print("fake nanoBragg")
if cfg.get("record"):
    inputs = {}
    for flag in ("-hkl", "-mat", "-matrix", "-sourcefile"):
        if flag in argv:
            name = argv[argv.index(flag) + 1]
            inputs[flag] = {"name": name, "exists": Path(name).is_file(),
                            "text": Path(name).read_text() if Path(name).is_file() else None}
    env = {k: os.environ.get(k) for k in cfg.get("record_env", [])}
    Path(cfg["record"]).write_text(json.dumps({"argv": argv, "cwd_files": sorted(os.listdir(".")),
                                               "inputs": inputs, "env": env}))
if cfg.get("spawn_sleeper"):
    import subprocess
    import time

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    Path(cfg["spawn_sleeper"]).write_text(str(child.pid))
    time.sleep(300)

import numpy as np  # noqa: E402 - after the sleeper, so a short timeout still finds the child started
for name in cfg.get("fail_if_present", []):
    if Path(name).exists():
        print(f"stale {name} found", file=sys.stderr)
        sys.exit(9)
for name in cfg.get("write_files", []):
    Path(name).write_text("stale")
if cfg.get("stderr"):
    print(cfg["stderr"], file=sys.stderr)
if cfg.get("exit"):
    sys.exit(int(cfg["exit"]))
n = int(argv[argv.index("-detpixels") + 1]) if "-detpixels" in argv else 32
slow, fast = cfg.get("shape", [n, n])
floatfile = argv[len(argv) - 1 - argv[::-1].index("-floatfile") + 1] if "-floatfile" in argv else "floatimage.bin"
kind = cfg.get("image", "spot")
if kind == "copy":
    shutil.copyfile(cfg["copy_from"], floatfile)
    sys.exit(0)
s, f = np.mgrid[0:slow, 0:fast].astype(np.float64)
if kind == "zeros":
    image = np.zeros((slow, fast))
elif kind == "noise":
    image = np.random.default_rng(7).random((slow, fast))
elif kind == "grid16":
    gs, gf = np.mgrid[0:16, 0:16].astype(np.float64)
    grid = 100.0 * np.exp(-((gs - 8) ** 2 + (gf - 8) ** 2) / 8.0) + 0.01 * (gs + gf)
    image = grid[np.ix_(np.arange(slow) * 16 // slow, np.arange(fast) * 16 // fast)]
else:
    c_s, c_f = (slow / 2.0, fast / 2.0) if kind == "spot" else (slow / 4.0, fast / 4.0)
    image = 100.0 * np.exp(-((s - c_s) ** 2 + (f - c_f) ** 2) / 8.0) + 0.01 * (s + f)
for p_s, p_f, amp in cfg.get("extra_peaks", []):
    peak = amp * np.exp(-((s - p_s) ** 2 + (f - p_f) ** 2) / float(cfg.get("extra_peak_sigma2", 2.0)))
    image = image + float(cfg.get("extra_peak_scale", 1.0)) * peak
image = (image * float(cfg.get("scale", 1.0))).astype("<f4")
image.tofile(floatfile)
if cfg.get("trace") and "-trace_pixel" in argv:
    k = argv.index("-trace_pixel")
    ps, pf = int(argv[k + 1]), int(argv[k + 2])
    value = float(image[ps, pf]) * float(cfg.get("trace_scale", 1.0))
    print(f"{cfg['trace']}: I_pixel_final {value:.15g}")
    print(f"{cfg['trace']}: floatimage_accumulated {value:.15g}")
