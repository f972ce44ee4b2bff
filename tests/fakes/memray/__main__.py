"""python -m memray run|stats: see __init__.py (a test double)."""
import os
import runpy
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
STATS = os.path.join(HERE, "..", "..", "data", "memray-fake", "stats-ok.json")


def opt(args, name):
    i = args.index(name)
    value = args[i + 1]
    del args[i:i + 2]
    return value


def run(args):
    for flag in ("-q", "-f"):
        if flag in args:
            args.remove(flag)
    capture = opt(args, "-o")
    if not args or not os.path.exists(args[0]):
        print(f"[Errno 2] No such file or directory: {args[0] if args else ''}", file=sys.stderr)
        return 1
    with open(capture, "wb") as f:  # memray writes its capture before the program runs
        f.write(b"MEMRAY-FAKE-CAPTURE\n")
    sys.argv = args
    try:
        runpy.run_path(args[0], run_name="__main__")
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return 0


def stats(args):
    out = opt(args, "-o")
    capture = args[-1]
    if not os.path.exists(capture):
        print(f"No such file: {capture}", file=sys.stderr)
        return 1
    shutil.copyfile(STATS, out)
    return 0


def main():
    args = sys.argv[1:]
    if args[:1] == ["run"]:
        return run(args[1:])
    if args[:1] == ["stats"] and "--json" in args:
        args.remove("--json")
        if "-n" in args:
            opt(args, "-n")
        return stats([a for a in args[1:] if a != "-f"])
    print("memray (test double): only 'run' and 'stats --json' are implemented", file=sys.stderr)
    return 2


sys.exit(main())
