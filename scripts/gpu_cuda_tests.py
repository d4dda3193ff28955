#!/usr/bin/env python3
"""Names of the doctest cases that exercise CUDA, read from the test sources: a TEST_CASE whose
name says CUDA or whose body uses the CUDA test helpers or the CUDA device. scripts/gpu_check.sh
runs exactly these with CELLGRAD_REQUIRE_CUDA=1 (and under compute-sanitizer); make gpu-bundle
keeps the list beside the binaries it was built with.
Usage: gpu_cuda_tests.py [TESTS_DIR]           one name per line
       gpu_cuda_tests.py --filter [TESTS_DIR]  the names as one doctest -tc filter (',' -> '?')
"""
import glob
import os
import re
import sys

MARKERS = re.compile(r"cuda_ready|check_cuda_parity|cuda_available|Device::CUDA|cuda_allocat|ExactFloat32|set_cuda_exact")
CASE = re.compile(r'TEST_CASE\(\s*"((?:[^"\\]|\\.)*)"')


def cuda_cases(tests_dir):
    names = []
    for path in sorted(glob.glob(os.path.join(tests_dir, "*.cpp"))):
        text = open(path, encoding="utf-8", errors="replace").read()
        cases = list(CASE.finditer(text))
        for i, m in enumerate(cases):
            body = text[m.end(): cases[i + 1].start() if i + 1 < len(cases) else len(text)]
            name = m.group(1).replace('\\"', '"')
            if "cuda" in name.lower() or MARKERS.search(body):
                names.append(name)
    return names


def main(argv):
    as_filter = "--filter" in argv
    rest = [a for a in argv if a != "--filter"]
    tests_dir = rest[0] if rest else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests")
    names = cuda_cases(tests_dir)
    if as_filter:
        print(",".join(n.replace(",", "?") for n in names))
    else:
        print("\n".join(names))
    return 0 if names else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
