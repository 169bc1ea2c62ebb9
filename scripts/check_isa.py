#!/usr/bin/env python3
"""Proves that x86-64 binaries carry AVX-512 code only where they check the CPU first.

Every AVX-512 instruction is EVEX-encoded: its opcode starts with the byte 0x62 (after any legacy
prefixes), which outside 64-bit mode was BOUND and in it is nothing else. pgvector and PostgreSQL keep
their AVX-512 code in functions chosen at run time after a CPUID check, and name them so
(`BitHammingDistanceAvx512Popcount`, `pg_popcount_avx512`, ...). An EVEX instruction in any other
function is code that an AVX2-only CPU dies on with SIGILL. VEX code (AVX, AVX2: opcodes starting with
0xc4 or 0xc5) outside such functions sets the floor at AVX2, which the CPU running this must have.

usage: check_isa.py BINARY...   exits 1, naming the functions, when any binary fails
"""
import collections
import re
import subprocess
import sys

LEGACY_PREFIXES = {"66", "67", "f0", "f2", "f3", "2e", "36", "3e", "26", "64", "65"}
FUNCTION = re.compile(r"^[0-9a-f]+ <(.+)>:$")
INSTRUCTION = re.compile(r"^\s+[0-9a-f]+:\t((?:[0-9a-f]{2} )+)\s*\t\S")  # continuation lines of long instructions have no mnemonic


def vector_code_by_function(path):
    """(EVEX, VEX) instruction counts per function."""
    listing = subprocess.run(["objdump", "-d", path], capture_output=True, text=True, check=True).stdout
    evex, vex = collections.Counter(), collections.Counter()
    function = None
    for line in listing.splitlines():
        if m := FUNCTION.match(line):
            function = m.group(1)
        elif m := INSTRUCTION.match(line):
            opcode = m.group(1).split()
            while opcode and opcode[0] in LEGACY_PREFIXES:
                opcode.pop(0)
            if opcode and opcode[0] == "62":
                evex[function] += 1
            elif opcode and opcode[0] in ("c4", "c5"):
                vex[function] += 1
    return evex, vex


def cpu_has(flag):
    with open("/proc/cpuinfo") as info:
        return any(line.startswith("flags") and flag in line.split() for line in info)


def main(paths):
    failed = False
    for path in paths:
        counts, vex = vector_code_by_function(path)
        checked = {f: n for f, n in counts.items() if "avx512" in f.lower()}
        unchecked = {f: n for f, n in counts.items() if "avx512" not in f.lower()}
        name = path.rsplit("/", 1)[-1]
        if unchecked:
            failed = True
            listed = ", ".join(f"{f} ({n})" for f, n in sorted(unchecked.items(), key=lambda x: -x[1])[:8])
            print(f"==> isa: {name}: {sum(unchecked.values())} AVX-512 instructions outside a CPU check, in {listed}")
        else:
            where = ", ".join(sorted(checked)) or "none"
            print(f"==> isa: {name}: AVX-512 only in run-time-checked functions ({sum(checked.values())} instructions: {where})")
        unchecked_vex = sum(n for f, n in vex.items() if "avx512" not in f.lower())
        if unchecked_vex and not cpu_has("avx2"):
            failed = True
            print(f"==> isa: {name}: {unchecked_vex} AVX/AVX2 instructions outside a CPU check, and this CPU has no AVX2")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]) if len(sys.argv) > 1 else 2)
