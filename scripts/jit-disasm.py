#!/usr/bin/env python3
"""Disassembles a C2-compiled method from a JVM log written without the hsdis plug-in (BENCHMARKS.md, session 40).

usage: scripts/jit-disasm.py LOG [--osr] [--all] [--loops]

Without hsdis, `-XX:+UnlockDiagnosticVMOptions -XX:CompileCommand=print,CLASS::METHOD` prints each compilation's
machine code as hex words ("Loading hsdis library failed"). This takes the last tier-4 compilation in LOG (the last
on-stack-replacement one with --osr), turns its words back into bytes and disassembles them with binutils' objdump,
offsets counted from the method's verified entry point:

  java --add-modules jdk.incubator.vector -XX:+UnlockDiagnosticVMOptions \\
      -XX:CompileCommand=print,dev.buddy.engine.tensor.Q4_KRowGroups::dot8 -jar bench/target/benchmarks.jar \\
      KernelBenchmark.decode -p format=Q4_K -p shape=256x2048 -p workingSetMiB=0 -p threads=1 -f 1 > dot8.log
  scripts/jit-disasm.py dot8.log --loops

--loops prints only the loops (backward branches): their offsets, length and instruction mix, the quickest way to see
what a kernel's inner loop costs (vector operations, range checks, spills). --all prints the whole method.
"""
import collections
import re
import signal
import subprocess
import sys
import tempfile

# "  0x00007f...: 8984 2400 | c0fe ff55 | ..." (memory order, grouped for reading)
WORD_LINE = re.compile(r'\s+0x([0-9a-f]+): ((?:[0-9a-f]{2,8}(?: \| | |\s*$))+)$')
INSTRUCTION = re.compile(r'\s+([0-9a-f]+):\s+(\S.*)')


def compilations(lines, osr):
    """Line numbers of the tier-4 compilations (OSR ones with osr)."""
    found = []
    for i, line in enumerate(lines):
        if line.startswith('Compiled method (c2)'):
            is_osr = ' % ' in line
            if is_osr == osr:
                found.append(i)
    return found


def machine_code(lines, start):
    """The bytes of the [MachCode] section after line start, gaps between printed ranges filled with nops."""
    i = start
    while i < len(lines) and '[MachCode]' not in lines[i]:
        i += 1
    code = bytearray()
    base = None
    for line in lines[i + 1:]:
        if '[/MachCode]' in line or line.startswith('Compiled method'):
            break
        m = WORD_LINE.match(line)
        if not m:
            continue
        address = int(m.group(1), 16)
        if base is None:
            base = address
        gap = address - base - len(code)
        if gap > 0:
            code += b'\x90' * gap
        code += bytes.fromhex(m.group(2).replace('|', '').replace(' ', ''))
    return bytes(code)


def disassemble(code):
    with tempfile.NamedTemporaryFile(suffix='.bin') as f:
        f.write(code)
        f.flush()
        out = subprocess.run(['objdump', '-D', '--no-show-raw-insn', '-b', 'binary', '-mi386:x86-64', f.name],
                             capture_output=True, text=True, check=True).stdout
    result = []
    for line in out.split('\n'):
        m = INSTRUCTION.match(line)
        if m:
            result.append((int(m.group(1), 16), m.group(2)))
    return result


def loops(instructions):
    """(start, end) of every backward conditional branch's range, innermost (shortest) first."""
    spans = []
    for offset, text in instructions:
        m = re.match(r'(j(?!mp)\w+)\s+0x([0-9a-f]+)', text)
        if m and int(m.group(2), 16) < offset:
            spans.append((int(m.group(2), 16), offset))
    return sorted(spans, key=lambda s: s[1] - s[0])


def main(argv):
    if len(argv) < 2 or argv[1] in ('-h', '--help'):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    unknown = [a for a in argv[2:] if a not in ('--osr', '--all', '--loops')]
    if unknown:
        print(f'jit-disasm: unknown option {unknown[0]} (options: --osr, --all, --loops)', file=sys.stderr)
        return 2
    try:
        lines = open(argv[1], errors='replace').read().split('\n')
    except OSError as e:
        print(f'jit-disasm: cannot read {argv[1]}: {e.strerror}', file=sys.stderr)
        return 2
    found = compilations(lines, '--osr' in argv)
    if not found:
        print(f'{argv[1]}: no tier-4 compilation printed (was the method hot long enough for C2?)', file=sys.stderr)
        return 2
    print(lines[found[-1]])
    try:
        instructions = disassemble(machine_code(lines, found[-1]))
    except FileNotFoundError:
        print('jit-disasm: objdump not found; install binutils', file=sys.stderr)
        return 2
    if '--loops' in argv:
        for start, end in loops(instructions):
            body = [t for o, t in instructions if start <= o <= end]
            mix = collections.Counter(t.split()[0] for t in body)
            print(f'loop 0x{start:x}-0x{end:x}: {len(body)} instructions')
            print('  ' + ', '.join(f'{op} {n}' for op, n in mix.most_common()))
    if '--all' in argv or '--loops' not in argv:
        for offset, text in instructions:
            print(f'0x{offset:05x}  {text}')
    return 0


if __name__ == '__main__':
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet under head
    sys.exit(main(sys.argv))
