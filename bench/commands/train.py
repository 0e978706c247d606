"""`bench train MODEL --data SET`: train a derainer and register the checkpoint as MODEL@NAME."""
from __future__ import annotations

import argparse
import sys


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="prenet, prenet_r, prn, prn_r, drdnet, semi-drdnet or rdmc")
    p.add_argument("--data", required=True,
                   help="bsds500-heavy | bsds500-light (synthesised on BSDS500), folder:<path>, a paired folder, "
                        "or a registered dataset with ground truth")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--patch", type=int, default=96, help="square training crop side (RDMC: multiple of 16)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument("--amp", action="store_true", help="float16 autocast + GradScaler (CUDA only)")
    p.add_argument("--resume", action="store_true", help="continue from the run's train_state.pth")
    p.add_argument("--name", help="registry name (default <data>-<steps>); run it as MODEL@NAME")
    p.add_argument("--every", type=int, default=100, help="checkpoint + validation every K steps")
    p.add_argument("--val-count", type=int, default=8, help="held-out pairs for validation PSNR-Y")
    p.add_argument("--against", default="rain100h,rain100l",
                   help="test sets to check the training images against (comma list)")
    p.add_argument("--allow-leakage", action="store_true", help="train on images found in a test set (recorded; the checkpoint is not evaluated on that set)")
    p.add_argument("--drop-leaked", action="store_true", help="leave out training pairs found in a test set")
    p.add_argument("--without-perceptual", action="store_true",
                   help="drop the feature-net terms (labelled ablation: name gets -noperc)")
    p.add_argument("--random-features", action="store_true",
                   help="feature nets with seeded random weights where ImageNet ones are missing (labelled "
                        "ablation: name gets -randvgg); keeps every loss term, Semi-DRDNet's real-rain branch too")
    p.add_argument("--real", help="semi-drdnet: folder of real rainy photos in no test set (unlabelled branch)")
    p.add_argument("--data-root")
    p.add_argument("--weights-dir", help="also where feature nets are looked for (<dir>/torchvision/<file>)")
    p.add_argument("--offline", action="store_true", default=None)
    p.add_argument("--no-progress", action="store_true")


def run(args) -> int:
    import torch

    from bench.config import RunContext
    from bench.models.weights import WeightsMissing
    from bench.train.leakage import LeakageRefused
    from bench.train.loop import TrainConfig, train

    torch.set_num_threads(max(1, torch.get_num_threads()))
    ctx = RunContext.from_env(device=args.device, offline=args.offline, data_root=args.data_root,
                              weights_dir=args.weights_dir)
    cfg = TrainConfig(model=args.model, data=args.data, steps=args.steps, batch=args.batch, patch=args.patch,
                      lr=args.lr, seed=args.seed, device=ctx.device, amp=args.amp, resume=args.resume,
                      name=args.name, every=args.every, val_count=args.val_count,
                      against=tuple(a for a in args.against.split(",") if a), allow_leakage=args.allow_leakage,
                      drop_leaked=args.drop_leaked, without_perceptual=args.without_perceptual, real=args.real,
                      random_features=args.random_features,
                      progress=not args.no_progress)
    try:
        res = train(cfg, ctx)
    except LeakageRefused as e:
        print(f"bench train: {e}", file=sys.stderr)
        return 2
    except (WeightsMissing, KeyError, ValueError, FileNotFoundError) as e:
        print(f"bench train: {e}", file=sys.stderr)
        return 2
    h = res["history"]
    val = f", val PSNR-Y {h['val_psnr_y'][-1]:.2f} dB" if h["val_psnr_y"] else ""
    steps = len(h["loss"])
    print(f"trained {args.model}@{cfg.run_name()}: {steps} steps in {res['wall_time_s']:.0f} s "
          f"({res['wall_time_s'] / max(1, steps):.2f} s/step), final loss {h['loss'][-1]:.4f}{val}\n"
          f"  {res['dir']}  (provenance.json, loss_curve.png)\n"
          f"  evaluate: python -m bench run --models {args.model}@{cfg.run_name()} --datasets rain100h")
    return 0
