"Write one section of benchmarks/RESULTS.md, replacing the section of the same title if present."
import platform, re, time
from pathlib import Path
import torch

RESULTS = Path(__file__).parent/'RESULTS.md'
HEAD = ("# Benchmark results\n\nEach section is written by the script named in it; figures are from one run on the "
        "machine described in the section. These machines are noisy: compare ratios measured in the same run.\n")

def machine() -> str:
    import os
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads), Python {platform.python_version()}")

def write_section(title: str, body: str, command: str):
    text = RESULTS.read_text() if RESULTS.exists() else HEAD
    sec = (f"\n## {title}\n\n_Run {time.strftime('%Y-%m-%d')} on {machine()}; reproduce with `{command}`._\n\n"
           f"{body.strip()}\n")
    pat = re.compile(rf"\n## {re.escape(title)}\n.*?(?=\n## |\Z)", re.S)
    text = pat.sub(lambda m: sec, text) if pat.search(text) else text.rstrip('\n') + '\n' + sec
    RESULTS.write_text(text)
