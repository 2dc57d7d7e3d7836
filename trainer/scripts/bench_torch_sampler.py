"""Time the trainer's own PyTorch sampler on one observation per call, as the runtime's bench does for its
ONNX graphs (`npm run bench -- --what compare` runs this beside them, in the same run).

    .venv/bin/python trainer/scripts/bench_torch_sampler.py --obs 151 --act 61 --K 32 --T 20 --ticks 200

Prints one JSON object: p50/p99/max/mean of the whole call (DiffusionPolicy.sample: K candidates through
T reverse steps, the critic, the selection) in ms, with the torch version and thread count. Untrained
weights: the cost does not depend on them.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from dptrain.policy import PolicySpec, build_policy


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--obs", type=int, required=True)
    p.add_argument("--act", type=int, required=True)
    p.add_argument("--K", type=int, default=32)
    p.add_argument("--T", type=int, default=20)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--ticks", type=int, default=200)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    spec = PolicySpec(args.obs, args.act, hidden=args.hidden, critic_hidden=args.hidden, schedule="cosine",
                      T=args.T, K=args.K)
    policy = build_policy(spec).eval()
    obs = torch.randn(1, args.obs)
    times = []
    with torch.no_grad():
        for i in range(args.warmup + args.ticks):
            started = time.perf_counter()
            policy.sample(obs, K=args.K)
            if i >= args.warmup:
                times.append((time.perf_counter() - started) * 1000)
    t = np.asarray(times)
    print(json.dumps({"torch": torch.__version__, "threads": args.threads, "obs": args.obs, "act": args.act,
                      "K": args.K, "T": args.T, "n": len(t), "p50_ms": round(float(np.percentile(t, 50)), 3),
                      "p99_ms": round(float(np.percentile(t, 99)), 3), "max_ms": round(float(t.max()), 3),
                      "mean_ms": round(float(t.mean()), 3)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
