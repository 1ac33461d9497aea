#!/usr/bin/env python3
"""PyTorch reference for bench/train-throughput.mjs.

Trains the paper's CIFAR-10 CNN (Byrd & Lipton 2019, Sec. 3: conv3x3 64,
conv3x3 64, maxpool 2, 3x conv3x3 128, maxpool 2, dense 512, dense 128,
binary output; ReLU; SGD without momentum) on random 32x32x3 images and
prints one JSON line with the training throughput (images/s) of the step
forward + backward + SGD update, after warm-up.

Run with the Debian interpreter that has python3-torch:
  /usr/bin/python3 bench/train_throughput_torch.py --threads 2
"""
import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def cnn(width: int) -> nn.Module:
    w2 = 2 * width
    return nn.Sequential(
        nn.Conv2d(3, width, 3, padding=1), nn.ReLU(),
        nn.Conv2d(width, width, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(width, w2, 3, padding=1), nn.ReLU(),
        nn.Conv2d(w2, w2, 3, padding=1), nn.ReLU(),
        nn.Conv2d(w2, w2, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(w2 * 8 * 8, 512), nn.ReLU(),
        nn.Linear(512, 128), nn.ReLU(),
        nn.Linear(128, 1),
    )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--channels-last", action="store_true")
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = cnn(a.width)
    x = torch.randn(a.batch, 3, 32, 32)
    if a.channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    y = (torch.rand(a.batch, 1) > 0.5).float()
    w = torch.ones(a.batch, 1)  # importance weights, as in the real runs
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.0)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        loss = F.binary_cross_entropy_with_logits(model(x), y, weight=w)
        loss.backward()
        opt.step()

    for _ in range(a.warmup):
        step()
    rates = []
    cpu_rates = []
    for _ in range(a.rounds):
        c0 = time.process_time()
        t0 = time.perf_counter()
        for _ in range(a.steps):
            step()
        rates.append(a.steps * a.batch / (time.perf_counter() - t0))
        # CPU time of all threads; OpenMP threads that spin while waiting
        # count too.
        cpu_rates.append(a.steps * a.batch / (time.process_time() - c0))
    json.dump(
        {
            "name": "pytorch" + ("-channels-last" if a.channels_last else ""),
            "framework": f"torch {torch.__version__}",
            "threads": torch.get_num_threads(),
            "batch": a.batch,
            "best": max(rates),
            "median": statistics.median(rates),
            "rounds": rates,
            "cpuRounds": cpu_rates,
        },
        sys.stdout,
    )
    print()


if __name__ == "__main__":
    main()
