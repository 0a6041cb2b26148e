"""How fast the `emssl` command line answers `--help`, against importing a pipeline module.

`emssl.cli` reads the training commands' options from the pipeline functions' source (`ast`) and imports torch,
fastai and matplotlib only inside the commands, so `--help` should cost a Python start-up, not a torch import.
Each command runs in a fresh process, `--repeats` times (default 5); the table gives the median and the spread
(min-max) of the wall time. Prints a markdown table; writes nothing.

    python benchmarks/cli_help.py [--repeats 5]
"""
import argparse, os, platform, shutil, statistics, subprocess, sys, time
from pathlib import Path

def emssl_exe() -> str:
    "The `emssl` console script of this Python environment."
    exe = Path(sys.executable).parent/'emssl'
    return str(exe) if exe.exists() else (shutil.which('emssl') or sys.exit("no `emssl` console script: pip install -e ."))

def timed(cmd: list, repeats: int) -> dict:
    "Wall times (s) of `repeats` fresh runs of `cmd`, and the last run's exit status and stderr."
    times, r = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True)
        times.append(time.perf_counter() - t)
    return dict(times=times, rc=r.returncode, err=r.stderr.strip().splitlines()[-1:] or [''])

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--repeats', type=int, default=5, help="runs per command (default: 5)")
    n = p.parse_args().repeats
    exe = emssl_exe()
    cases = [('`emssl --help`', [exe, '--help']),
             ('`emssl pretrain mae --help`', [exe, 'pretrain', 'mae', '--help']),
             ('`python -c "import emssl.mae"` (for comparison)', [sys.executable, '-c', 'import emssl.mae']),
             ('`python -c "pass"` (Python start-up)', [sys.executable, '-c', 'pass'])]
    subprocess.run([exe, '--help'], capture_output=True)   # compile the .pyc files once, outside the timings
    rows = ["| command | median (s) | min - max (s) |", "| --- | --- | --- |"]
    for name, cmd in cases:
        r = timed(cmd, n)
        med, lo, hi = statistics.median(r['times']), min(r['times']), max(r['times'])
        note = '' if r['rc'] == 0 else f" (exit status {r['rc']}: {r['err'][0][:80]})"
        rows.append(f"| {name}{note} | {med:.3f} | {lo:.3f} - {hi:.3f} |")
    body = (f"{n} fresh processes per command, after one untimed run that compiles the .pyc files.\n\n" + "\n".join(rows) +
            "\n\nThe command line reads the training options from the pipeline functions' source (`ast`) and imports torch, "
            "fastai and matplotlib only inside the command that runs: before this, `emssl --help` imported them all and took "
            "about 3 s warm (13 s on a cold start) on this machine. The target is under 1 s.")
    print(body)
    sys.path.insert(0, str(Path(__file__).parent))
    from results import write_section
    write_section("`emssl --help` start-up time", body, "python benchmarks/cli_help.py")

if __name__ == '__main__': main()
