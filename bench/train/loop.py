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
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from bench.config import settings
from bench.train import data as D
from bench.train.leakage import check_leakage
from bench.train.recipes import Recipe, objective, recipe, trainable_parameters
from bench.train.records import ablation_text, git_commit, loss_curve
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


def lr_at(cfg: TrainConfig, step: int) -> float:
    return cfg.lr * cfg.gamma ** sum(step >= m * cfg.steps for m in cfg.milestones)


def _dist() -> tuple[int, int, int]:
    """(rank, world size, local rank): torchrun's WORLD_SIZE / LOCAL_RANK, through bench.config."""
    env = settings()
    if env.world_size <= 1:
        return 0, 1, 0
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), env.world_size, env.local_rank


def check_recipe(cfg: TrainConfig, rec: Recipe) -> None:
    """Refuse what this recipe cannot train, before any data is read."""
    if cfg.patch % rec.patch_multiple or cfg.val_patch % rec.patch_multiple:
        raise ValueError(f"{cfg.model}: --patch must be a multiple of {rec.patch_multiple}")
    if rec.needs_real and not cfg.real:
        raise ValueError(f"{cfg.model}: the unlabelled real-rain branch needs --real DIR, a folder of real rainy "
                         "photos that are in no test set (checked for leakage, also against internet-data); "
                         "or train the supervised part only with --without-perceptual")
    from bench.models.weights import registry

    if cfg.run_name() in registry().get(cfg.model, {}):
        raise ValueError(f"--name {cfg.run_name()!r} is a published {cfg.model} checkpoint id; choose another name")


def feature_net(cfg: TrainConfig, rec: Recipe, ctx, device) -> tuple[torch.nn.Module | None, dict | None]:
    """The recipe's frozen feature network (ImageNet weights, or seeded random ones for the
    --random-features ablation) and what the provenance says about it; (None, None) if it has none."""
    if not rec.feature_net:
        return None, None
    from bench.train.features import feature_taps, resolve_feature_weights

    if cfg.random_features:
        torch.manual_seed(cfg.seed)
        features = feature_taps(rec.feature_net, pretrained=False).to(device)
        return features, {"net": rec.feature_net, "weights": f"random (torchvision init, seed {cfg.seed})"}
    fpath, fsha = resolve_feature_weights(rec.feature_net, ctx)
    features = feature_taps(rec.feature_net, weights_path=fpath).to(device)
    return features, {"net": rec.feature_net, "file": str(fpath), "sha256": fsha}


class TrainingRun:
    """One `bench train` invocation: set up (data, leakage check, network, optimiser, resume) in
    ``__init__``, then ``fit()`` steps, validates and checkpoints. Recipe-specific parts live in
    the recipe (its loss, its extra inputs) and in ``feature_net``."""

    def __init__(self, cfg: TrainConfig, ctx):
        from bench.models import MODELS

        self.cfg = cfg
        self.rank, self.world, local_rank = _dist()
        self.device = torch.device(f"cuda:{local_rank}" if cfg.device == "cuda" and self.world > 1 else cfg.device)
        self.rec = rec = recipe(cfg.model, cfg.without_perceptual)
        check_recipe(cfg, rec)
        self.out = run_dir(ctx.cache_dir, cfg.model, cfg.run_name())
        self.tset = D.load_training_set(cfg.data, ctx, cfg.seed)
        self.real = D.read_real_folder(Path(cfg.real)) if rec.needs_real else []
        self.leak, self.pairs = check_leakage(cfg, self.tset, self.real, ctx)
        self.train_pairs, self.val_pairs = D.split_validation(self.pairs, cfg.val_count)
        self.sampler = D.PatchSampler(self.train_pairs, cfg.patch, cfg.seed)
        features, self.feature_info = feature_net(cfg, rec, ctx, self.device)
        self.loss_fn = objective(rec, features)

        torch.manual_seed(cfg.seed)
        self.net = MODELS.load(cfg.model).build_network().to(self.device).train()
        self.params = trainable_parameters(cfg.model, self.net)
        self.opt = torch.optim.Adam(self.params, lr=cfg.lr)
        self.start, self.wall_before = 0, 0.0
        self.history = {"step": [], "loss": [], "val_step": [], "val_psnr_y": []}
        self.state_path = self.out / "train_state.pth"
        self._resume()
        if self.world > 1:
            import torch.distributed as dist

            for p in self.net.state_dict().values():
                dist.broadcast(p, 0)
        self.data_fp = D.fingerprint(self.pairs)
        self.use_amp = cfg.amp and self.device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.use_amp)
        self.t0 = time.time()

    def _resume(self) -> None:
        cfg, state_path = self.cfg, self.state_path
        if cfg.resume and state_path.is_file():
            st = torch.load(state_path, map_location="cpu", weights_only=True)
            if st["config"]["seed"] != cfg.seed or st["config"]["batch"] != cfg.batch or st["config"]["patch"] != cfg.patch:
                raise ValueError(f"{state_path}: saved with seed/batch/patch {st['config']['seed']}/"
                                 f"{st['config']['batch']}/{st['config']['patch']}; resume with the same values")
            self.net.load_state_dict(st["model"], strict=True)
            self.opt.load_state_dict(st["optimizer"])
            self.start, self.history, self.wall_before = st["step"], st["history"], st["wall_time_s"]
        elif cfg.resume:
            print(f"--resume: no {state_path}; starting from step 0", flush=True)

    def wall_time(self) -> float:
        return self.wall_before + time.time() - self.t0

    def save(self, step: int) -> None:
        if self.rank:
            return
        cfg, out, net = self.cfg, self.out, self.net
        state = {"model": net.state_dict(), "optimizer": self.opt.state_dict(), "step": step,
                 "history": self.history, "wall_time_s": self.wall_time(),
                 "config": {k: v for k, v in asdict(cfg).items() if k != "extra"}}
        atomic_save(state, self.state_path)
        atomic_save(net.state_dict(), out / "checkpoint.pth")
        atomic_write_text(json.dumps(self.provenance(step), indent=1), out / "provenance.json")

    def provenance(self, step: int) -> dict:
        from bench.hashing import sha256_file

        cfg, device, real = self.cfg, self.device, self.real
        return {"model": cfg.model, "name": cfg.run_name(), "source": "own-trained",
                "ablation": ablation_text(cfg, self.rec),
                "data": {"name": cfg.data, "root": str(self.tset.root), "notes": self.tset.notes,
                         "fingerprint": self.data_fp, "train_pairs": len(self.train_pairs),
                         "val_pairs": [p.id for p in self.val_pairs],
                         "real_rain": {"folder": cfg.real, "images": len(real)} if real else None,
                         "leakage": self.leak},
                "losses": self.rec.terms, "feature_net": self.feature_info, "steps": cfg.steps, "steps_done": step,
                "batch": cfg.batch, "patch": cfg.patch, "lr": cfg.lr, "milestones": cfg.milestones,
                "gamma": cfg.gamma, "seed": cfg.seed, "amp": self.use_amp, "world_size": self.world,
                "git_commit": git_commit(), "wall_time_s": round(self.wall_time(), 1),
                "device": str(device) + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""),
                "torch": torch.__version__, "history_tail": {k: v[-5:] for k, v in self.history.items()},
                "checkpoint_sha256": sha256_file(self.out / "checkpoint.pth")}

    def validate(self) -> float:
        from bench.measures.psnr import psnr_y

        cfg, net = self.cfg, self.net
        net.eval()
        vals = []
        with torch.no_grad():
            vs = D.PatchSampler(self.val_pairs, cfg.val_patch, cfg.seed + 1)
            for i, p in enumerate(self.val_pairs):
                rainy, clean = vs.crops([[p.rainy, p.clean]], vs.generator(i))
                vals.append(float(psnr_y()(net(rainy.to(self.device)).clamp(0, 1).cpu(), clean)[0]))
        net.train()
        return sum(vals) / max(1, len(vals))

    def step(self, step: int) -> float:
        """One optimiser step (gradients averaged over ranks); returns the loss."""
        cfg, device, opt = self.cfg, self.device, self.opt
        for g in opt.param_groups:
            g["lr"] = lr_at(cfg, step)
        index = step * self.world + self.rank
        rainy, clean = self.sampler.batch(index, cfg.batch)
        extra = {k: v.to(device) for k, v in self.rec.extra_inputs(self.sampler, index, cfg.batch, self.real).items()}
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.float16, enabled=self.use_amp):
            terms = self.loss_fn(self.net, rainy.to(device), clean.to(device), **extra)
        self.scaler.scale(terms["total"]).backward()
        if self.world > 1:
            import torch.distributed as dist

            for p in self.params:
                if p.grad is not None:
                    dist.all_reduce(p.grad)
                    p.grad /= self.world
        self.scaler.step(opt)
        self.scaler.update()
        return float(terms["total"].detach())

    def fit(self) -> dict:
        cfg, history = self.cfg, self.history
        bar = None
        if cfg.progress and self.rank == 0:
            from tqdm import tqdm

            bar = tqdm(total=cfg.steps, initial=self.start, desc=f"train {cfg.model}@{cfg.run_name()}",
                       dynamic_ncols=True)
        last = time.time()
        for step in range(self.start, cfg.steps):
            loss = self.step(step)
            history["step"].append(step + 1)
            history["loss"].append(loss)
            now = time.time()
            if bar is not None:
                bar.set_postfix(loss=f"{loss:.4f}", s_step=f"{now - last:.2f}")
                bar.update(1)
            last = now
            done = step + 1 == cfg.steps or (cfg.stop_at is not None and step + 1 >= cfg.stop_at)
            if (step + 1) % cfg.every == 0 or done:
                if self.val_pairs and self.rank == 0:
                    history["val_step"].append(step + 1)
                    history["val_psnr_y"].append(round(self.validate(), 3))
                    if bar is not None:
                        bar.write(f"step {step + 1}: val PSNR-Y {history['val_psnr_y'][-1]:.2f} dB "
                                  f"({len(self.val_pairs)} held-out {cfg.val_patch}px crops)")
                self.save(step + 1)
            if done:
                break
        if bar is not None:
            bar.close()
        if self.start >= cfg.steps:
            self.save(cfg.steps)
        if self.rank == 0:
            loss_curve(history, self.out / "loss_curve.png", f"{cfg.model}@{cfg.run_name()}")
        return {"dir": str(self.out), "history": history, "wall_time_s": self.wall_time(),
                "leakage": self.leak, "train_pairs": len(self.train_pairs)}


def train(cfg: TrainConfig, ctx) -> dict:
    return TrainingRun(cfg, ctx).fit()
