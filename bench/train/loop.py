"""The training loop: seeded sampling, the recipe's loss, atomic checkpoints, exact resume.

Determinism: the network is initialised from ``torch.manual_seed(seed)``, every step's batch is a
function of (seed, step) (bench.train.data), the learning rate a function of the step, and the
checkpoint carries model + optimiser state; so on CPU, N steps straight and N/2 + ``--resume`` N/2
give bitwise-equal weights (tests/test_train_loop.py). On CUDA, cuDNN kernels are not bitwise
reproducible unless deterministic algorithms are forced (we do not force them).

Multi-GPU: started by ``torchrun --nproc_per_node G -m bench train ...`` (WORLD_SIZE > 1), each rank
draws its own batch (stream = rank), gradients are averaged with all_reduce after backward,
parameters are broadcast from rank 0 at the start and only rank 0 writes files. This path is
written but has not been run here (no multi-GPU machine).
"""
from __future__ import annotations

import json
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from bench.config import settings
from bench.train import data as D
from bench.train.recipes import objective, recipe, trainable_parameters
from bench.train.registry import atomic_save, atomic_write_text, run_dir


@dataclass
class TrainConfig:
    model: str
    data: str
    steps: int = 1000
    batch: int = 8
    patch: int = 96
    lr: float = 1e-3
    seed: int = 0
    device: str = "cpu"
    amp: bool = False
    resume: bool = False
    name: str | None = None
    every: int = 100                 # checkpoint + validation every K steps
    val_count: int = 8
    val_patch: int = 128
    against: tuple[str, ...] = ("rain100h", "rain100l")
    allow_leakage: bool = False
    drop_leaked: bool = False
    without_perceptual: bool = False
    real: str | None = None
    random_features: bool = False    # ablation: seeded random VGG weights where ImageNet ones are missing
    milestones: tuple[float, ...] = (0.3, 0.5, 0.8)   # PReNet lineage: MultiStep [30,50,80]/100, γ 0.2
    gamma: float = 0.2
    progress: bool = True
    stop_at: int | None = None       # end this invocation after this step (tests: an interrupted run)
    extra: dict = field(default_factory=dict)

    def run_name(self) -> str:
        name = self.name or f"{Path(self.data).name}-{self.steps}"
        if self.without_perceptual and "noperc" not in name:
            name += "-noperc"
        if self.random_features and not self.without_perceptual and "randvgg" not in name:
            name += "-randvgg"
        return name


class LeakageRefused(RuntimeError):
    pass


def lr_at(cfg: TrainConfig, step: int) -> float:
    return cfg.lr * cfg.gamma ** sum(step >= m * cfg.steps for m in cfg.milestones)


def git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10,
                              cwd=Path(__file__).resolve().parent).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def check_leakage(cfg: TrainConfig, tset: D.TrainingSet, real: list[Path], ctx) -> tuple[dict, list[D.Pair]]:
    """Leakage report of the clean training images (and --real photos) against the test sets;
    refuses leaked pairs unless --allow-leakage (keep) or --drop-leaked (remove)."""
    from bench.data import resolve_dataset
    from bench.data.leakage import dataset_images, format_report, leakage_report

    against, missing = {}, []
    names = list(cfg.against) + (["internet-data"] if real else [])
    for name in names:
        try:
            against[name] = dataset_images(resolve_dataset(name, ctx))
        except LookupError:
            missing.append(name)
    paths = [p.clean for p in tset.pairs] + real
    rep = leakage_report(paths, against, Path(ctx.cache_dir))
    rep["not_checked"] = missing
    leaked = set(rep["leaked_train"])
    pairs = tset.pairs
    bad_pairs = [p for p in pairs if str(p.clean) in leaked]
    bad_real = [p for p in real if str(p) in leaked]
    if (bad_real or (bad_pairs and not cfg.drop_leaked)) and not cfg.allow_leakage:
        raise LeakageRefused(format_report(rep) + "\nrefusing to train on test images: pass --drop-leaked to "
                             "leave leaked pairs out, or --allow-leakage to keep them (recorded in the "
                             "provenance; the checkpoint is then never evaluated on those test sets)")
    if cfg.drop_leaked and bad_pairs:
        pairs = [p for p in pairs if str(p.clean) not in leaked]
        rep["dropped"] = len(tset.pairs) - len(pairs)
    kept = {str(p.clean) for p in pairs} | {str(p) for p in real}
    # test sets whose images stay in training: `bench run` will not evaluate the checkpoint there
    rep["seen_test_sets"] = sorted(n for n, r in rep["against"].items()
                                   if any(lk["train"] in kept for lk in r["leaks"]))
    rep["policy"] = ("allowed" if cfg.allow_leakage and rep["seen_test_sets"] else
                     "dropped" if rep.get("dropped") else "refuse")
    return rep, pairs


def _dist() -> tuple[int, int, int]:
    """(rank, world size, local rank): torchrun's WORLD_SIZE / LOCAL_RANK, through bench.config."""
    env = settings()
    if env.world_size <= 1:
        return 0, 1, 0
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), env.world_size, env.local_rank


def train(cfg: TrainConfig, ctx) -> dict:
    from bench.measures.psnr import psnr_y
    from bench.models import MODELS

    rank, world, local_rank = _dist()
    device = torch.device(f"cuda:{local_rank}" if cfg.device == "cuda" and world > 1 else cfg.device)
    rec = recipe(cfg.model, cfg.without_perceptual)
    if cfg.patch % rec.patch_multiple or cfg.val_patch % rec.patch_multiple:
        raise ValueError(f"{cfg.model}: --patch must be a multiple of {rec.patch_multiple}")
    if rec.needs_real and not cfg.real:
        raise ValueError(f"{cfg.model}: the unlabelled real-rain branch needs --real DIR, a folder of real rainy "
                         "photos that are in no test set (checked for leakage, also against internet-data); "
                         "or train the supervised part only with --without-perceptual")
    from bench.models.weights import registry

    if cfg.run_name() in registry().get(cfg.model, {}):
        raise ValueError(f"--name {cfg.run_name()!r} is a published {cfg.model} checkpoint id; choose another name")
    out = run_dir(ctx.cache_dir, cfg.model, cfg.run_name())
    tset = D.load_training_set(cfg.data, ctx, cfg.seed)
    real = D.read_real_folder(Path(cfg.real)) if rec.needs_real else []
    leak, pairs = check_leakage(cfg, tset, real, ctx)
    train_pairs, val_pairs = D.split_validation(pairs, cfg.val_count)
    sampler = D.PatchSampler(train_pairs, cfg.patch, cfg.seed)
    features = None
    feature_info = None
    if rec.feature_net:
        from bench.train.features import feature_taps, resolve_feature_weights

        if cfg.random_features:
            torch.manual_seed(cfg.seed)
            features = feature_taps(rec.feature_net, pretrained=False).to(device)
            feature_info = {"net": rec.feature_net, "weights": f"random (torchvision init, seed {cfg.seed})"}
        else:
            fpath, fsha = resolve_feature_weights(rec.feature_net, ctx)
            features = feature_taps(rec.feature_net, weights_path=fpath).to(device)
            feature_info = {"net": rec.feature_net, "file": str(fpath), "sha256": fsha}
    loss_fn = objective(rec, features)

    torch.manual_seed(cfg.seed)
    net = MODELS.load(cfg.model).build_network().to(device).train()
    params = trainable_parameters(cfg.model, net)
    opt = torch.optim.Adam(params, lr=cfg.lr)
    start, history, wall_before = 0, {"step": [], "loss": [], "val_step": [], "val_psnr_y": []}, 0.0
    state_path = out / "train_state.pth"
    if cfg.resume and state_path.is_file():
        st = torch.load(state_path, map_location="cpu", weights_only=True)
        if st["config"]["seed"] != cfg.seed or st["config"]["batch"] != cfg.batch or st["config"]["patch"] != cfg.patch:
            raise ValueError(f"{state_path}: saved with seed/batch/patch {st['config']['seed']}/"
                             f"{st['config']['batch']}/{st['config']['patch']}; resume with the same values")
        net.load_state_dict(st["model"], strict=True)
        opt.load_state_dict(st["optimizer"])
        start, history, wall_before = st["step"], st["history"], st["wall_time_s"]
    elif cfg.resume:
        print(f"--resume: no {state_path}; starting from step 0", flush=True)
    if world > 1:
        import torch.distributed as dist

        for p in net.state_dict().values():
            dist.broadcast(p, 0)
    data_fp = D.fingerprint(pairs)
    use_amp = cfg.amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    t0 = time.time()

    def save(step: int) -> None:
        if rank:
            return
        state = {"model": net.state_dict(), "optimizer": opt.state_dict(), "step": step, "history": history,
                 "wall_time_s": wall_before + time.time() - t0, "config": {k: v for k, v in asdict(cfg).items()
                                                                          if k != "extra"}}
        atomic_save(state, state_path)
        atomic_save(net.state_dict(), out / "checkpoint.pth")
        from bench.hashing import sha256_file

        prov = {"model": cfg.model, "name": cfg.run_name(), "source": "own-trained",
                "ablation": ablation_text(cfg, rec),
                "data": {"name": cfg.data, "root": str(tset.root), "notes": tset.notes, "fingerprint": data_fp,
                         "train_pairs": len(train_pairs), "val_pairs": [p.id for p in val_pairs],
                         "real_rain": {"folder": cfg.real, "images": len(real)} if real else None,
                         "leakage": leak},
                "losses": rec.terms, "feature_net": feature_info, "steps": cfg.steps, "steps_done": step,
                "batch": cfg.batch, "patch": cfg.patch, "lr": cfg.lr, "milestones": cfg.milestones,
                "gamma": cfg.gamma, "seed": cfg.seed, "amp": use_amp, "world_size": world,
                "git_commit": git_commit(), "wall_time_s": round(wall_before + time.time() - t0, 1),
                "device": str(device) + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""),
                "torch": torch.__version__, "history_tail": {k: v[-5:] for k, v in history.items()},
                "checkpoint_sha256": sha256_file(out / "checkpoint.pth")}
        atomic_write_text(json.dumps(prov, indent=1), out / "provenance.json")

    def validate() -> float:
        net.eval()
        vals = []
        with torch.no_grad():
            vs = D.PatchSampler(val_pairs, cfg.val_patch, cfg.seed + 1)
            for i, p in enumerate(val_pairs):
                rainy, clean = vs.crops([[p.rainy, p.clean]], vs.generator(i))
                vals.append(float(psnr_y()(net(rainy.to(device)).clamp(0, 1).cpu(), clean)[0]))
        net.train()
        return sum(vals) / max(1, len(vals))

    bar = None
    if cfg.progress and rank == 0:
        from tqdm import tqdm

        bar = tqdm(total=cfg.steps, initial=start, desc=f"train {cfg.model}@{cfg.run_name()}", dynamic_ncols=True)
    last = time.time()
    for step in range(start, cfg.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(cfg, step)
        rainy, clean = sampler.batch(step * world + rank, cfg.batch)
        extra = {}
        if rec.needs_real and "contrast_background" in rec.terms:
            extra = {"real": sampler.unpaired(step * world + rank, cfg.batch, real, stream=1).to(device),
                     "unpaired_clean": sampler.unpaired_clean(step * world + rank, cfg.batch).to(device)}
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.float16, enabled=use_amp):
            terms = loss_fn(net, rainy.to(device), clean.to(device), **extra)
        scaler.scale(terms["total"]).backward()
        if world > 1:
            import torch.distributed as dist

            for p in params:
                if p.grad is not None:
                    dist.all_reduce(p.grad)
                    p.grad /= world
        scaler.step(opt)
        scaler.update()
        loss = float(terms["total"].detach())
        history["step"].append(step + 1)
        history["loss"].append(loss)
        now = time.time()
        if bar is not None:
            bar.set_postfix(loss=f"{loss:.4f}", s_step=f"{now - last:.2f}")
            bar.update(1)
        last = now
        done = step + 1 == cfg.steps or (cfg.stop_at is not None and step + 1 >= cfg.stop_at)
        if (step + 1) % cfg.every == 0 or done:
            if val_pairs and rank == 0:
                history["val_step"].append(step + 1)
                history["val_psnr_y"].append(round(validate(), 3))
                if bar is not None:
                    bar.write(f"step {step + 1}: val PSNR-Y {history['val_psnr_y'][-1]:.2f} dB "
                              f"({len(val_pairs)} held-out {cfg.val_patch}px crops)")
            save(step + 1)
        if done:
            break
    if bar is not None:
        bar.close()
    if start >= cfg.steps:
        save(cfg.steps)
    if rank == 0:
        loss_curve(history, out / "loss_curve.png", f"{cfg.model}@{cfg.run_name()}")
    return {"dir": str(out), "history": history, "wall_time_s": wall_before + time.time() - t0,
            "leakage": leak, "train_pairs": len(train_pairs)}


def dropped_terms(cfg: TrainConfig) -> list[str]:
    full, kept = recipe(cfg.model).terms, recipe(cfg.model, True).terms
    return [k for k in full if k not in kept]


def ablation_text(cfg: TrainConfig, rec) -> str | None:
    """What an ablation left out or replaced, for its name's reader (None: the released recipe)."""
    if cfg.without_perceptual:
        return "without perceptual terms: " + ", ".join(dropped_terms(cfg))
    if cfg.random_features and rec.feature_net:
        return (f"{rec.feature_net} with random weights (seed {cfg.seed}) in place of ImageNet weights, "
                f"for: {', '.join(rec.perceptual_terms)}")
    return None


def loss_curve(history: dict, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(history["step"], history["loss"], lw=0.8, label="training loss")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    if history["val_step"]:
        ax2 = ax.twinx()
        ax2.plot(history["val_step"], history["val_psnr_y"], "o-", color="C1", label="val PSNR-Y (dB)")
        ax2.set_ylabel("val PSNR-Y (dB)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
