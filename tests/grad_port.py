"""A gradient port run as a command, for the tests of ``pwb gradcheck --cand-cmd``: it implements
the declared interface ``ARGS -grad_param NAME -gradfile FILE`` (raw float32, -floatfile layout,
per unit of the flag's value) with simcore's autograd.

Mutants for the tests (environment): GRAD_PORT_SCALE=F multiplies the gradient by F (a wrong
constant factor), GRAD_PORT_FAIL=1 exits 3 without writing the file.
"""
from __future__ import annotations

import os
import sys

import numpy as np


def main(argv: list[str]) -> int:
    args, name, gradfile, skip = [], None, None, 0
    for i, token in enumerate(argv):
        if skip:
            skip -= 1
            continue
        if token == "-grad_param":
            name, skip = argv[i + 1], 1
        elif token == "-gradfile":
            gradfile, skip = argv[i + 1], 1
        elif token.startswith("-floatfile"):
            skip = 1
        else:
            args.append(token)
    if name is None or gradfile is None:
        print("grad_port: needs -grad_param NAME -gradfile FILE", file=sys.stderr)
        return 2
    if os.environ.get("GRAD_PORT_FAIL"):
        print("grad_port: failing on purpose", file=sys.stderr)
        return 3
    from parity.gradients import params as P
    from parity.gradients.check import grad_request, prepare_case
    from parity.ports.gradients import SimcoreGradientPort

    case = prepare_case(args)
    spec = P.param_spec(name)
    defaults = P.effective_defaults(spec, case.config, args)
    request = grad_request(spec, defaults[spec.index], defaults)
    grad = SimcoreGradientPort("float64").gradient(args, request, base_dir=".", shape=case.shape)
    grad = grad * float(os.environ.get("GRAD_PORT_SCALE", "1"))
    grad.astype("<f4").tofile(gradfile)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
