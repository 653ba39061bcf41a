"""The long run of the attack suite: the state machine of tests/attack for 10,000+ steps.

    .venv/bin/python -m bench.attack                  # 10,000 steps, seed 1
    .venv/bin/python -m bench.attack --steps 500 --seed 7

Runs ``tests/attack/test_state_machine.py`` under pytest (in batches, each a fresh process with
its own Hypothesis seed) against its own test database (``MEMPORTAL_ATTACK_DATABASE``, default
``test_attack_long``, on the embedded server), with examples of ``--steps-per-example`` steps,
until at least ``--steps`` steps have run. Violations are recorded and the run goes on (CI
stops at the first). Known, not yet fixed bugs (the machine's KNOWN_BUGS, each with an xfail
regression test) are counted apart. Prints a table, writes bench/results/attack.json, and exits
1 if any violation was found. docs/security.md reports the last result.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "attack.json"
TEST = "tests/attack/test_state_machine.py"


def log(msg: str) -> None:
    print(msg, flush=True)


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.attack", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=10_000, help="run at least this many steps in all")
    parser.add_argument("--steps-per-example", type=int, default=100, help="steps in one example (one world)")
    parser.add_argument("--batch-steps", type=int, default=2_500, help="steps per pytest process")
    parser.add_argument("--seed", type=int, default=1, help="Hypothesis seed of the first batch (+1 per batch)")
    parser.add_argument("--database", default=os.environ.get("MEMPORTAL_ATTACK_DATABASE", "test_attack_long"))
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args()


def run_batch(*, examples: int, steps: int, seed: int, database: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        summary = Path(tmp) / "summary.json"
        env = {
            **os.environ,
            "MEMPORTAL_TEST_DATABASE": database,
            "MEMPORTAL_ATTACK_EXAMPLES": str(examples),
            "MEMPORTAL_ATTACK_STEPS": str(steps),
            "MEMPORTAL_ATTACK_COLLECT": "1",
            "MEMPORTAL_ATTACK_RANDOM": "1",
            "MEMPORTAL_ATTACK_SUMMARY": str(summary),
        }
        command = [sys.executable, "-m", "pytest", TEST, "-q", "-p", "no:cacheprovider", "-x",
                   f"--hypothesis-seed={seed}", "-W", "ignore"]
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        if not summary.exists():
            log(done.stdout[-4000:] + done.stderr[-4000:])
            raise SystemExit(f"the attack suite did not run (pytest exit {done.returncode})")
        result = json.loads(summary.read_text())
        result["pytest_exit"] = done.returncode
        return result


def main() -> int:
    args = _parse()
    started = time.monotonic()
    total: dict[str, Any] = {"steps": 0, "examples": 0, "requests": 0, "violations": 0}
    kinds: Counter[str] = Counter()
    known: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    samples: dict[str, str] = {}
    batches = []
    seed = args.seed
    while total["steps"] < args.steps:
        want = min(args.batch_steps, args.steps - total["steps"])
        examples = max(1, math.ceil(want / args.steps_per_example))
        log(f"batch {len(batches) + 1}: {examples} examples x {args.steps_per_example} steps, seed {seed} ...")
        result = run_batch(examples=examples, steps=args.steps_per_example, seed=seed, database=args.database)
        batches.append({k: result[k] for k in ("steps", "examples", "violations", "seconds", "pytest_exit")}
                       | {"seed": seed})
        for key in ("steps", "examples", "requests", "violations"):
            total[key] += result.get(key, 0)
        kinds.update(result.get("violation_kinds", {}))
        known.update(result.get("known_bugs", {}))
        rules.update(result.get("rules", {}))
        outcomes.update(result.get("outcomes", {}))
        for kind, sample in result.get("samples", {}).items():
            samples.setdefault(kind, sample)
        log(f"  {result['steps']} steps, {result['violations']} violations, {result['seconds']} s")
        seed += 1
    seconds = round(time.monotonic() - started, 1)
    report = {
        "command": "python -m bench.attack " + " ".join(sys.argv[1:]),
        "steps": total["steps"], "examples": total["examples"], "requests": total["requests"],
        "steps_per_example": args.steps_per_example, "first_seed": args.seed, "seconds": seconds,
        "violations": total["violations"], "violation_kinds": dict(kinds), "samples": samples,
        "known_bugs": dict(known), "rules": dict(sorted(rules.items())), "outcomes": dict(sorted(outcomes.items())),
        "batches": batches,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    log("")
    log(f"{'steps run':<28}{total['steps']:>10,}")
    log(f"{'examples (fresh worlds)':<28}{total['examples']:>10,}")
    log(f"{'HTTP requests':<28}{total['requests']:>10,}")
    log(f"{'seconds':<28}{seconds:>10,.1f}")
    log(f"{'violations found':<28}{total['violations']:>10,}")
    for kind, count in kinds.most_common():
        log(f"  {count:>6}  {kind}")
    log(f"{'known bugs hit (xfail)':<28}{sum(known.values()):>10,}")
    for bug, count in known.most_common():
        log(f"  {count:>6}  {bug}")
    log(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 1 if total["violations"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
