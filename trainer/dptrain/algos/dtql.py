"""DTQL, Diffusion Trusted Q-Learning (Chen, Wang, Zhou, NeurIPS 2024), offline, with a one-step policy.

Follows the authors' code (TianyuCodings/Diffusion_Trusted_Q_Learning, agents/dtql.py, diffusion/karras.py):
- a behaviour-cloning diffusion model mu_phi in the EDM (Karras) parameterisation: D(x, sigma) =
  c_skip x + c_out F(c_in x, c_noise, s), sigma_data 0.5, sigma in [0.002, 80] drawn from a log-logistic
  (loc log 0.5, scale 0.5); loss ((clip(D(a + sigma eps), -1, 1) - a) / c_out)^2. It is never sampled;
- the diffusion trust-region loss: the same loss evaluated on the *policy's* actions with the BC model held
  fixed, L_TR = E[w(sigma) |mu_phi(a_theta + sigma eps) - a_theta|^2]; its gradient reaches theta through
  a_theta. It is small wherever the BC model can denoise a_theta back to itself: on the data's modes;
- the one-step policy: a tanh-squashed diagonal Gaussian of the state (ReLU MLP, log std in [-5, 2]),
  loss alpha L_TR - min(Q1, Q2)(s, a_theta) (Q not normalised) + gamma_ent * (-log pi(a_data | s));
- an IQL critic: twin Q with LayerNorm, V by expectile regression (tau 0.7) on min Q - V,
  Q <- r + gamma (1 - d) V(s'); target critic by soft update (tau 0.005), used for ranking at deployment;
- `pretrain_steps` of BC model and critic alone before the policy starts; EMA of the policy (0.995, every 5);
- deployment: K samples of the (EMA) policy, a draw from softmax(min Q of the target critic).

Where we differ: the BC network is the trainer's shared denoiser with the EDM c_noise as its time input and a
Mish after every hidden layer (the authors' MLP has none after its first layer; same sizes); deployment draws
K = 32 candidates (configurable) instead of the authors' 1024, to fit a 20 ms tick on a CPU. The exported
package has an `actor` graph (observation, noise) -> action, noise an input as in the sampler graphs, and the
twin critic; the runtime runs it as a one-step path, no denoising loop.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
from torch import nn

from ..common import clip_and_step, soft_update
from ..networks import Denoiser, mlp
from ..offline import train_offline
from ..policy import ActorPolicy, ActorPolicySpec, build_actor_policy


@dataclass
class DTQLConfig:
    dataset: str = ""  # .npz in the trainer's dataset format (docs/datasets.md)
    env: str = "Pendulum-v1"  # for evaluation and for the manifest
    seed: int = 0
    total_steps: int = 1_000_000  # gradient steps, the pretraining included
    pretrain_steps: int = 50_000  # BC model and critic alone (the authors: 50 epochs x 1000)
    batch_size: int = 256
    gamma: float = 0.99
    tau: float = 0.005
    lr: float = 3e-4
    alpha: float = 5.0  # weight of the trust-region loss (the authors' value for most gym tasks)
    gamma_ent: float = 0.0  # weight of -log pi(a_data | s) (0 for gym, 1 for antmaze)
    expectile: float = 0.7
    grad_clip: float = 0.0  # 0: no clipping
    ema_decay: float = 0.995
    ema_every: int = 5
    sigma_data: float = 0.5
    sigma_min: float = 0.002
    sigma_max: float = 80.0
    bc_hidden: int = 256
    bc_layers: int = 4
    hidden: int = 256  # the one-step policy
    layers: int = 3
    critic_hidden: int = 256
    eval_sample: int = 32  # K candidates at evaluation and in the package
    temperature: float = 1.0
    normalize_obs: bool = False
    eval_interval: int = 50_000
    eval_episodes: int = 10
    checkpoint_interval: int = 50_000
    log_interval: int = 1000
    device: str = "cpu"
    threads: int = 0


class KarrasBC(nn.Module):
    """The EDM-preconditioned BC model and its denoising loss (also the trust-region loss)."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: int = 256, layers: int = 4, sigma_data: float = 0.5,
                 sigma_min: float = 0.002, sigma_max: float = 80.0):
        super().__init__()
        self.net = Denoiser(obs_dim, act_dim, hidden, layers, t_dim=16, t_hidden=32)
        self.sigma_data, self.sigma_min, self.sigma_max = sigma_data, sigma_min, sigma_max

    def denoise(self, x: torch.Tensor, sigma: torch.Tensor, obs: torch.Tensor) -> torch.Tensor:
        """D(x, sigma | s) = c_skip x + c_out F(c_in x, log(sigma) / 4, s); sigma [N, 1]."""
        sd2 = self.sigma_data**2
        c_skip = sd2 / (sigma**2 + sd2)
        c_out = sigma * self.sigma_data / torch.sqrt(sigma**2 + sd2)
        c_in = 1.0 / torch.sqrt(sigma**2 + sd2)
        return c_skip * x + c_out * self.net(c_in * x, torch.log(sigma[:, 0]) / 4.0, obs)

    def sample_sigma(self, n: int, device=None) -> torch.Tensor:
        """Log-logistic (loc log sigma_data, scale 0.5) truncated to [sigma_min, sigma_max], by inverse CDF."""
        loc, scale = math.log(self.sigma_data), 0.5
        cdf = lambda s: 1.0 / (1.0 + math.exp(-(math.log(s) - loc) / scale))  # noqa: E731
        u = torch.rand(n, 1, device=device) * (cdf(self.sigma_max) - cdf(self.sigma_min)) + cdf(self.sigma_min)
        return torch.exp(loc + scale * torch.log(u / (1.0 - u)))

    def loss(self, a: torch.Tensor, obs: torch.Tensor, per_sample: bool = False) -> torch.Tensor:
        """E_sigma,eps |(clip(D(a + sigma eps, sigma), -1, 1) - a) / c_out|^2 (mean over action dims)."""
        sigma = self.sample_sigma(a.shape[0], a.device)
        denoised = torch.clamp(self.denoise(a + sigma * torch.randn_like(a), sigma, obs), -1.0, 1.0)
        c_out = sigma * self.sigma_data / torch.sqrt(sigma**2 + self.sigma_data**2)
        err = (((denoised - a) / c_out) ** 2).mean(dim=1)
        return err if per_sample else err.mean()


def trust_region_loss(bc: KarrasBC, actions: torch.Tensor, obs: torch.Tensor, per_sample: bool = False) -> torch.Tensor:
    """L_TR: the BC model's denoising loss on the policy's actions; call it with the BC model's parameters
    left out of the optimiser step (its gradient is meant for the actions)."""
    return bc.loss(actions, obs, per_sample)


def expectile_loss(diff: torch.Tensor, tau: float) -> torch.Tensor:
    """IQL's asymmetric square: |tau - 1(diff < 0)| diff^2, mean."""
    weight = torch.abs(tau - (diff < 0).float())
    return (weight * diff**2).mean()


def policy_spec(cfg: DTQLConfig, obs_dim: int, act_dim: int) -> ActorPolicySpec:
    return ActorPolicySpec(obs_dim, act_dim, cfg.hidden, cfg.layers, critic_members=2, critic_hidden=cfg.critic_hidden,
                           critic_layer_norm=True, normalize=cfg.normalize_obs, K=cfg.eval_sample, aggregation="min",
                           rule="softmax", temperature=cfg.temperature)


class DTQL:
    def __init__(self, cfg: DTQLConfig, obs_dim: int, act_dim: int):
        self.cfg, self.device = cfg, torch.device(cfg.device)
        self.spec = policy_spec(cfg, obs_dim, act_dim)
        # `policy` holds the EMA actor and the target critic: what gets deployed.
        self.policy: ActorPolicy = build_actor_policy(self.spec).to(self.device)
        self.actor = copy.deepcopy(self.policy.actor)
        self.critic = copy.deepcopy(self.policy.critic)
        self.value = mlp([obs_dim] + [cfg.critic_hidden] * 3 + [1]).to(self.device)  # V(s), 3 x 256 Mish
        self.bc = KarrasBC(obs_dim, act_dim, cfg.bc_hidden, cfg.bc_layers, cfg.sigma_data, cfg.sigma_min,
                           cfg.sigma_max).to(self.device)
        self.bc_opt = torch.optim.Adam(self.bc.parameters(), lr=cfg.lr)
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=cfg.lr)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=cfg.lr)
        self.value_opt = torch.optim.Adam(self.value.parameters(), lr=cfg.lr)

    def update(self, batch: dict, step: int) -> dict:
        cfg = self.cfg
        obs = self.policy.normalize(batch["observations"])
        next_obs = self.policy.normalize(batch["next_observations"])
        actions = batch["actions"]
        clip = cfg.grad_clip if cfg.grad_clip > 0 else None

        bc_loss = self.bc.loss(actions, obs)
        clip_and_step(self.bc_opt, bc_loss, self.bc.parameters(), clip)

        # IQL: V by expectile regression on min Q, then Q towards r + gamma (1 - d) V(s').
        with torch.no_grad():
            q_data = self.critic(obs, actions).min(dim=1).values
        value_loss = expectile_loss(q_data - self.value(obs)[:, 0], cfg.expectile)
        clip_and_step(self.value_opt, value_loss, self.value.parameters(), clip)
        with torch.no_grad():
            y = batch["rewards"] + cfg.gamma * (1.0 - batch["terminals"]) * self.value(next_obs)[:, 0]
        critic_loss = ((self.critic(obs, actions) - y[:, None]) ** 2).mean(dim=0).sum()
        clip_and_step(self.critic_opt, critic_loss, self.critic.parameters(), clip)
        soft_update(self.policy.critic, self.critic, cfg.tau)
        stats = {"bc_loss": float(bc_loss), "critic_loss": float(critic_loss), "value_loss": float(value_loss)}
        if step < cfg.pretrain_steps:  # the same columns every row (train.csv): the policy's are blank here
            return {**stats, "tr_loss": float("nan"), "q_loss": float("nan"), "actor_loss": float("nan")}

        new_actions = self.actor(obs, torch.randn_like(actions))
        tr_loss = trust_region_loss(self.bc, new_actions, obs)
        q_loss = -self.critic(obs, new_actions).min(dim=1).values.mean()
        actor_loss = cfg.alpha * tr_loss + q_loss
        if cfg.gamma_ent > 0:
            actor_loss = actor_loss - cfg.gamma_ent * self.actor.log_prob(obs, actions).mean()
        clip_and_step(self.actor_opt, actor_loss, self.actor.parameters(), clip)
        if step % cfg.ema_every == 0:
            soft_update(self.policy.actor, self.actor, 1.0 - cfg.ema_decay)
        return {**stats, "tr_loss": float(tr_loss), "q_loss": float(q_loss), "actor_loss": float(actor_loss)}

    def state_dict(self) -> dict:
        return {name: getattr(self, name).state_dict() for name in
                ("policy", "actor", "critic", "value", "bc", "bc_opt", "actor_opt", "critic_opt", "value_opt")}

    def load_state_dict(self, state: dict) -> None:
        for name, value in state.items():
            getattr(self, name).load_state_dict(value)


def train(cfg: DTQLConfig, run_dir: str, resume: bool = False, stop_at: int | None = None) -> dict:
    """Offline on cfg.dataset until total_steps or `stop_at`, resumable (as the other offline methods)."""
    return train_offline("dtql", cfg, DTQL, run_dir, resume, stop_at)
