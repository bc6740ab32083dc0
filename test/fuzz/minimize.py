#!/usr/bin/env python3
"""Shrinks a failing spec that fuzz_tools.py saved to a small reproducer.

    minimize.py FAILURE_DIR            # the folder fuzz_tools.py printed
    minimize.py --input spec.mlir -- attn-opt --attn-lower-to-tiles {} -o /dev/null

It runs the command (from FAILURE_DIR/command.sh, on its input.mlir, or the
one given after --, with {} standing for the input) on smaller and smaller
versions of the input: first whole lines, then tokens, then characters are
removed while the run still fails with the same signature (the first crash
marker line, or the first frame of the stack dump). The result is written
beside the input as minimized.mlir and printed with the command.
"""

import argparse
import os
import re
import shlex
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzz_tools  # noqa: E402


def make_test(argv, input_path, timeout, work):
    """A function text -> bool: does the command still fail the same way?"""
    def run(text):
        path = os.path.join(work, "candidate.mlir")
        with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(text)
        command = [path if a in ("{}", input_path) else
                   a.replace(input_path, path) for a in argv]
        result = fuzz_tools.run_command(command, timeout)
        reason = fuzz_tools.classify(result.returncode, result.output,
                                     result.timed_out)
        if reason is None:
            return None
        return fuzz_tools.signature(reason, result.output)
    return run


def ddmin(items, still_fails, join):
    """Delta debugging over a list: removes chunks while the test holds."""
    n = 2
    while len(items) >= 2:
        chunk = max(1, len(items) // n)
        removed = False
        for start in range(0, len(items), chunk):
            candidate = items[:start] + items[start + chunk:]
            if candidate and still_fails(join(candidate)):
                items = candidate
                n = max(n - 1, 2)
                removed = True
                break
        if not removed:
            if chunk == 1:
                break
            n = min(len(items), n * 2)
    return items


def minimize(text, run):
    target = run(text)
    if target is None:
        print("minimize: the input does not fail")
        return None, None
    print(f"minimize: target signature: {target}")

    def same(candidate):
        return run(candidate) == target

    lines = ddmin(text.splitlines(keepends=True), same, "".join)
    text = "".join(lines)
    # Tokens with their trailing blank space, so what is left stays legible.
    tokens = re.findall(r"\s+|(?:[\w.$%#@^-]+|.)\s*", text, flags=re.S)
    tokens = ddmin(tokens, same, "".join)
    text = "".join(tokens)
    # Collapse runs of blank space where it still fails.
    squeezed = re.sub(r"[ \t]+", " ", text)
    if same(squeezed):
        text = squeezed
    return text, target


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("failure", nargs="?")
    parser.add_argument("--input")
    parser.add_argument("--timeout", type=float, default=20)
    argv = sys.argv[1:]
    command = []
    if "--" in argv:
        command = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    args = parser.parse_args(argv)
    args.command = command
    if args.failure:
        with open(os.path.join(args.failure, "command.sh")) as f:
            argv = shlex.split(f.read().splitlines()[-1])
        input_path = args.input or os.path.join(args.failure, "input.mlir")
    else:
        argv = [a for a in args.command if a != "--"]
        input_path = args.input
    if not input_path or not argv:
        parser.error("give a failure folder, or --input and a command")
    with open(input_path, encoding="utf-8", errors="surrogateescape") as f:
        text = f.read()
    with tempfile.TemporaryDirectory() as work:
        small, target = minimize(text, make_test(argv, input_path,
                                                 args.timeout, work))
    if small is None:
        return 1
    out = os.path.join(os.path.dirname(os.path.abspath(input_path)),
                       "minimized.mlir")
    with open(out, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write(small)
    shown = [out if a in ("{}", input_path) else a for a in argv]
    print(f"minimize: {len(text)} -> {len(small)} characters: {out}")
    print(f"minimize: command: {shlex.join(shown)}")
    print("----")
    print(small)
    return 0


if __name__ == "__main__":
    sys.exit(main())
