#!/usr/bin/env python3
"""Worst-case stack of a firmware image, from its entry point down its call graph.

Usage: stack.py READOBJ OBJDUMP ELF [ROOT] [TOP]

Frames come from the `.stack_sizes` section that rustc's `-Z emit-stack-sizes` asks LLVM to write
(`llvm-readobj --stack-sizes`); the call graph from the disassembly (`llvm-objdump -d`): every
`bl`/`blx` to a function, and every `b`/`b.w` to the start of another function (a tail call,
counted with the caller's frame still on the stack, which over-estimates). A function without a
`.stack_sizes` entry (compiler_builtins, precompiled without the flag) gets the frame its prologue
sets up (`push`, `vpush`, `sub sp`), marked `~`. A function whose address is built in a
register (`movw` + `movt`) counts as called from there, which covers the indirect calls the
compiler makes through a selected function address; other indirect calls (`blx rN`, `bx rN` not
returning) are listed, and the worst case holds only when they lead nowhere deeper.
Recursion makes the worst case unbounded and is reported.
"""

import re
import subprocess
import sys


def run(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def symbols(nm, elf):
    """{name: address} of the defined symbols (Thumb bit cleared)."""
    addrs = {}
    for line in run(nm, "--defined-only", elf).splitlines():
        parts = line.split()
        if len(parts) == 3:
            addrs[parts[2]] = int(parts[0], 16) & ~1
    return addrs


def frames_from_readobj(readobj, elf, addrs):
    """{address: frame bytes} from `llvm-readobj --stack-sizes`."""
    out = run(readobj, "--stack-sizes", elf)
    frames = {}
    names = []
    for line in out.splitlines():
        line = line.strip()
        m = re.match(r"Functions: \[(.*)\]", line)
        if m:
            names = [n.strip() for n in m.group(1).split(",")]
            continue
        m = re.match(r"Size: (0x[0-9a-fA-F]+|\d+)", line)
        if m:
            size = int(m.group(1), 0)
            for n in names:
                if n in addrs:
                    frames[addrs[n]] = max(size, frames.get(addrs[n], 0))
            names = []
    return frames


def disassemble(objdump, elf):
    """Functions by start address: ({address: name}, {address: set(callee address)},
    {address with an indirect call}, {address: prologue bytes})."""
    out = run(objdump, "-d", "--no-show-raw-insn", elf)
    names, calls, indirect, prologue = {}, {}, set(), {}
    cur, seen_insns = None, 0
    head = re.compile(r"^([0-9a-f]+) <(.+)>:$")
    insn = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$")
    branches, movw = [], {}
    for line in out.splitlines():
        m = head.match(line)
        if m:
            if m.group(2).startswith("$"):
                continue  # a mapping symbol ($t code, $d data) inside the current function
            cur = int(m.group(1), 16) & ~1
            names[cur] = m.group(2)
            calls.setdefault(cur, set())
            prologue[cur] = 0
            seen_insns = 0
            continue
        m = insn.match(line)
        if not m or cur is None:
            continue
        op, args = m.group(2).split(".")[0], m.group(3)
        seen_insns += 1
        if seen_insns <= 6:
            # The prologue: pushed registers, pushed FP registers, stack adjustment.
            regs = re.search(r"\{([^}]*)\}", args)
            if regs and (op == "push" or (op == "stmdb" and args.startswith("sp!"))):
                prologue[cur] += 4 * count_regs(regs.group(1))
            elif op == "vpush" and regs:
                prologue[cur] += 8 * count_regs(regs.group(1))
            elif op in ("sub", "subw"):
                sm = re.match(r"sp,\s*(?:sp,\s*)?#(0x[0-9a-f]+|\d+)", args)
                if sm:
                    prologue[cur] += int(sm.group(1), 0)
        # A function address built in a register (movw + movt): a possible indirect callee.
        k = re.match(r"(r\d+|ip|lr),\s*#(0x[0-9a-f]+|\d+)", args)
        if k and op == "movw":
            movw[k.group(1)] = int(k.group(2), 0)
        elif k and op == "movt" and k.group(1) in movw:
            address = (int(k.group(2), 0) << 16 | movw.pop(k.group(1))) & ~1
            branches.append((cur, address, False))
        target = re.match(r"(0x[0-9a-f]+|[0-9a-f]+)\b", args.strip())
        if op in ("bl", "blx") and target:
            branches.append((cur, int(target.group(1), 16) & ~1, False))
        elif op in ("bl", "blx"):
            indirect.add(cur)
        elif op == "b" and target:
            branches.append((cur, int(target.group(1), 16) & ~1, True))
        elif op == "bx" and not args.strip().startswith("lr"):
            indirect.add(cur)
    for f, t, tail in branches:
        # A call goes to a function's start; a plain branch there from another function is a
        # tail call, anything else a jump inside the function.
        if t in names and (not tail or t != f):
            calls[f].add(t)
    return names, calls, indirect, prologue


def count_regs(spec):
    n = 0
    for part in spec.split(","):
        part = part.strip()
        m = re.match(r"([a-z]+)(\d+)-[a-z]+(\d+)", part)
        n += int(m.group(3)) - int(m.group(2)) + 1 if m else 1
    return n


def demangle(names):
    try:
        out = subprocess.run(
            ["llvm-cxxfilt"], input="\n".join(names), capture_output=True, text=True, check=True
        ).stdout.splitlines()
        return dict(zip(names, out))
    except (OSError, subprocess.CalledProcessError):
        return {n: n for n in names}


def main():
    readobj, objdump, elf = sys.argv[1:4]
    root_name = sys.argv[4] if len(sys.argv) > 4 else "Reset"
    top = int(sys.argv[5]) if len(sys.argv) > 5 else 8
    nm = objdump.replace("objdump", "nm")
    addrs = symbols(nm, elf)
    frames = frames_from_readobj(readobj, elf, addrs)
    names, calls, indirect, prologue = disassemble(objdump, elf)
    root = addrs.get(root_name)
    if root not in calls:
        sys.exit(f"{elf}: no function {root_name}")
    # Show a function by the name its frame was recorded under, else objdump's label.
    by_addr = {}
    for n, a in addrs.items():
        if a in names and (a not in by_addr or n == root_name):
            by_addr[a] = n
    names.update(by_addr)

    def frame(f):
        return (frames[f], "") if f in frames else (prologue.get(f, 0), "~")

    recursive, memo, visiting = set(), {}, set()

    def worst(f):
        """(bytes, path) of the deepest call chain from f."""
        if f in memo:
            return memo[f]
        if f in visiting:
            recursive.add(f)
            return 0, ()
        visiting.add(f)
        best, path = 0, ()
        for g in sorted(calls.get(f, ())):
            d, p = worst(g)
            if d > best:
                best, path = d, p
        visiting.discard(f)
        memo[f] = (frame(f)[0] + best, (f,) + path)
        return memo[f]

    sys.setrecursionlimit(100000)
    total, path = worst(root)
    reach, todo = set(), [root]
    while todo:
        f = todo.pop()
        if f not in reach:
            reach.add(f)
            todo.extend(calls.get(f, ()))
    pretty = demangle(sorted({names[f] for f in reach}))
    show = lambda f: short(pretty.get(names[f], names[f]))
    print(f"worst case from {show(root)}: {total} bytes"
          + (" (recursion: unbounded)" if recursive else ""))
    for f in path:
        size, mark = frame(f)
        print(f"  {size:>6}{mark:1} {show(f)}")
    print(f"largest frames of the {len(reach)} functions reachable:")
    for f in sorted(reach, key=lambda f: -frame(f)[0])[:top]:
        size, mark = frame(f)
        print(f"  {size:>6}{mark:1} {show(f)}")
    unknown = sorted(f for f in reach if f not in frames)
    if unknown:
        print(f"  ~ {len(unknown)} without .stack_sizes (prologue estimate): "
              + ", ".join(show(f) for f in unknown[:6]) + (" ..." if len(unknown) > 6 else ""))
    ind = sorted(reach & indirect)
    if ind:
        print("  indirect calls (functions whose address is built there counted as callees), in: " + ", ".join(show(f) for f in ind[:6])
              + (" ..." if len(ind) > 6 else ""))
    # Each recursive cycle and what one more turn of it adds: the worst case is the figure
    # above plus, per cycle, (bound on its depth - 1) times its cost; the bound is the code's
    # (a nesting or depth limit) and cannot be read from the binary.
    for cycle in cycles(calls, reach, frame):
        cost = sum(frame(f)[0] for f in cycle)
        print(f"  recursion, {cost} bytes per turn: "
              + " -> ".join(show(f) for f in cycle + cycle[:1]))


def cycles(calls, reach, frame):
    """The heaviest simple cycle through each function that recurses, one per cycle."""
    found, seen = [], set()
    for start in sorted(reach):
        best = []

        def walk(f, path, on_path):
            nonlocal best
            for g in calls.get(f, ()):
                if g == start:
                    if sum(frame(x)[0] for x in path) > sum(frame(x)[0] for x in best):
                        best = list(path)
                elif g not in on_path and g > start and len(path) < 12:
                    on_path.add(g)
                    walk(g, path + [g], on_path)
                    on_path.discard(g)

        walk(start, [start], {start})
        key = frozenset(best)
        if best and key not in seen:
            seen.add(key)
            found.append(best)
    return found


def short(name):
    """A demangled name without generic arguments, by its last two path segments."""

    def strip(text):
        out, depth = "", 0
        for ch in text:
            depth += ch == "<"
            if depth == 0:
                out += ch
            depth -= ch == ">"
        return out

    full = strip(name)
    if name.startswith("<"):
        depth = 0
        for i, ch in enumerate(name):
            depth += (ch == "<") - (ch == ">")
            if depth == 0:
                inner = strip(name[1:i]).split(" as ")[-1]
                full = inner + strip(name[i + 1 :])
                break
    parts = [p for p in full.split("::") if p]
    return "::".join(parts[-2:]) or name


if __name__ == "__main__":
    main()
