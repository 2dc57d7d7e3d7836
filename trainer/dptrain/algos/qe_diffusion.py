"""Entropy-regularised diffusion policy with a Q-ensemble (Zhang et al., NeurIPS 2024), offline.

Follows the authors' code (ruoqizzz/entropy-offlineRL, agents/eql_diffusion.py, diffusion.py, sdes.py):
- reverse process: their mean-reverting SDE da = -theta a dt + sqrt(2 theta) dw (cosine theta schedule, T = 5,
  dt such that exp(-theta_bar_T) = 1e-3) sampled with their `posterior_step`. That step *is* a DDPM posterior
  step with beta_t = 1 - exp(-2 theta_t dt) (schedules.mean_reverting_betas), so the actor is the shared
  `Diffusion` with that schedule and the package runs in the runtime's existing samplers unchanged;
  x0 is not clipped (the authors clip only for antmaze and pen: `action_clip`);
- behaviour cloning: their maximum-likelihood loss `MLL` (gym): the one-step Euler step of the reverse SDE
  with the predicted score must hit the optimal posterior mean; `NML` (plain noise MSE) as an option;
- entropy: their closed-form estimate, minus the Gaussian log-density of the SDE's reverse transition
  (DiffusionPolicy.entropy), evaluated at the one-step x0 prediction of the BC loss;
- critic: an ensemble of M = 64 members (EDAC init: biases 0.1, last layer U(+-3e-3)), each with its own TD
  target r + gamma (1 - d) Q'_m(s', a'), a' from the EMA actor (max over 10 samples with max_q_backup);
- actor loss: L_bc + eta * (-mean Q_LCB / mean |Q| detached) + alpha * (-mean H / mean |H| detached), with
  Q_LCB = mean_m Q_m - beta * std_m Q_m (beta = 4, alpha = 0.01) at the clipped one-step x0 prediction (no
  backpropagation through the chain);
- EMA actor 0.995 every 5 steps from step 1000; soft critic target tau = 0.005; grad-norm clip 4;
- deployment as the authors evaluate: 50 candidates from the actor, a draw from softmax(Q_LCB) of the target
  ensemble (the exported critic is the whole ensemble, `q` [n, M]; the manifest's selection is `lcb`, beta).

Where we differ: schedule constants are computed in float64 (the authors': float32); the entropy's fresh
Gaussian sample is drawn from torch's generator like every other draw. Nothing else.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..common import clip_and_step, soft_update
from ..diffusion import Diffusion
from ..networks import CriticEnsemble
from ..offline import train_offline
from ..policy import DiffusionPolicy, PolicySpec, build_policy
from ..selection import aggregate


@dataclass
class QEDiffusionConfig:
    dataset: str = ""  # .npz in the trainer's dataset format (docs/datasets.md)
    env: str = "Pendulum-v1"  # for evaluation and for the manifest
    seed: int = 0
    total_steps: int = 1_000_000
    batch_size: int = 256
    gamma: float = 0.99
    tau: float = 0.005
    lr: float = 3e-4
    eta: float = 1.0  # weight of the Q term
    ent_coef: float = 0.01  # alpha, weight of the entropy term (0 switches it off)
    lcb_coef: float = 4.0  # beta of Q_LCB = mean - beta * std, in the loss and at selection
    num_critics: int = 64
    grad_clip: float = 4.0
    max_q_backup: bool = False
    loss_type: str = "MLL"  # MLL (the authors' gym setting) or NML (noise MSE: antmaze, pen)
    action_clip: bool = False  # clip the x0 estimate to [-1, 1] in the reverse step
    ema_decay: float = 0.995
    ema_start: int = 1000
    ema_every: int = 5
    T: int = 5
    hidden: int = 256
    layers: int = 3
    t_dim: int = 16
    t_hidden: int = 32
    critic_hidden: int = 256
    eval_sample: int = 50
    temperature: float = 1.0
    normalize_obs: bool = False
    eval_interval: int = 50_000
    eval_episodes: int = 10
    checkpoint_interval: int = 50_000
    log_interval: int = 1000
    device: str = "cpu"
    threads: int = 0


def policy_spec(cfg: QEDiffusionConfig, obs_dim: int, act_dim: int) -> PolicySpec:
    return PolicySpec(obs_dim, act_dim, cfg.hidden, cfg.layers, cfg.t_dim, cfg.t_hidden, "mean_reverting", cfg.T,
                      clip_x0=1.0 if cfg.action_clip else None, critic_members=cfg.num_critics,
                      critic_hidden=cfg.critic_hidden, normalize=cfg.normalize_obs, K=cfg.eval_sample,
                      aggregation="lcb", beta=cfg.lcb_coef, rule="softmax", temperature=cfg.temperature)


class SDETerms(nn.Module):
    """The SDE's per-step quantities, from the DDPM constants of the mean-reverting schedule (float64, then float32):
    theta_t dt = -log(1 - beta_t) / 2, theta_bar_t = -log(alpha_bar_t) / 2, std_t = sqrt(1 - alpha_bar_t)."""

    def __init__(self, diffusion: Diffusion):
        super().__init__()
        c = diffusion.constants
        if diffusion.T < 3:
            raise ValueError("the entropy estimate uses steps 1 and T-1: T must be at least 3")
        f32 = lambda a: torch.tensor(np.asarray(a), dtype=torch.float32)  # noqa: E731
        self.register_buffer("theta_dt", f32(-0.5 * np.log1p(-c.betas)))
        self.register_buffer("theta_bar", f32(-0.5 * np.log(c.alphas_cumprod)))
        self.register_buffer("std", f32(c.sqrt_one_minus_alphas_cumprod))
        self.register_buffer("coef_x0", f32(c.posterior_mean_coef1))
        self.register_buffer("coef_xt", f32(c.posterior_mean_coef2))
        self.T = diffusion.T

    def _log_transition(self, x1: torch.Tensor, x2: torch.Tensor, t1: int, t2: int) -> torch.Tensor:
        """The authors' `log_forward_transition`: log N(x1; x2 exp(-tb), 1 - exp(-2 tb)), tb = theta_bar[t2] - theta_bar[t1]."""
        tb = self.theta_bar[t2] - self.theta_bar[t1]
        var = 1.0 - torch.exp(-2.0 * tb)
        return -0.5 * (torch.log(2.0 * math.pi * var) + (x1 - x2 * torch.exp(-tb)) ** 2 / var)

    def entropy(self, a0: torch.Tensor) -> torch.Tensor:
        """The authors' `DiffusionPolicy.entropy`: -log of the reverse transition at a_1 = one Euler step of the
        forward drift from a0, given a fresh Gaussian as a_{T-1}, summed over action dims ([N])."""
        a1 = a0 - self.theta_dt[0] * a0
        z = torch.randn_like(a0)
        log_p = (self._log_transition(a1, z, 1, self.T - 1) + self._log_transition(a0, a1, 0, 1)
                 - self._log_transition(a0, z, 0, self.T - 1))
        return -log_p.sum(dim=1)


def bc_loss(actor: Diffusion, sde: SDETerms, a0: torch.Tensor, obs: torch.Tensor, loss_type: str):
    """(loss, one-step x0 prediction): noise a0 to a random step, predict the noise, then MLL or NML."""
    t = torch.randint(0, actor.T, (a0.shape[0],), device=a0.device)
    eps = torch.randn_like(a0)
    a_t = actor.q_sample(a0, t, eps)
    eps_hat = actor.denoiser(a_t, t, obs)
    std = sde.std[t][:, None]
    start_pred = (a_t - std * eps_hat) * torch.exp(sde.theta_bar[t])[:, None]
    if loss_type == "NML":
        return ((eps_hat - eps) ** 2).mean(), start_pred
    if loss_type != "MLL":
        raise ValueError(f"unknown loss_type {loss_type!r}; expected MLL or NML")
    # Euler step of the reverse SDE: a_t - (drift - sigma^2 score) dt with score = -eps_hat / std, sigma^2 = 2 theta.
    theta_dt = sde.theta_dt[t][:, None]
    a_prev_pred = a_t + theta_dt * a_t - 2.0 * theta_dt * eps_hat / std
    a_prev_target = sde.coef_xt[t][:, None] * a_t + sde.coef_x0[t][:, None] * a0  # the optimal posterior mean
    return ((a_prev_pred - a_prev_target) ** 2).mean(), start_pred


def lcb(q: torch.Tensor, beta: float) -> torch.Tensor:
    return aggregate(q, "lcb", beta)


def init_edac(critic: CriticEnsemble) -> None:
    """EDAC's ensemble init, as the authors: hidden biases 0.1; last layer weights and bias U(-3e-3, 3e-3)."""
    with torch.no_grad():
        for layer in critic.layers[:-1]:
            layer.bias.fill_(0.1)
        critic.layers[-1].weight.uniform_(-3e-3, 3e-3)
        critic.layers[-1].bias.uniform_(-3e-3, 3e-3)


class QEDiffusion:
    def __init__(self, cfg: QEDiffusionConfig, obs_dim: int, act_dim: int):
        self.cfg, self.device = cfg, torch.device(cfg.device)
        self.spec = policy_spec(cfg, obs_dim, act_dim)
        # `policy` holds the online actor and the *target* ensemble: what the authors deploy.
        self.policy: DiffusionPolicy = build_policy(self.spec).to(self.device)
        init_edac(self.policy.critic)
        self.actor, self.critic_target = self.policy.diffusion, self.policy.critic
        self.critic = copy.deepcopy(self.critic_target)
        self.ema_actor = copy.deepcopy(self.actor)
        self.sde = SDETerms(self.actor).to(self.device)
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=cfg.lr)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=3e-4)

    def next_q(self, next_obs: torch.Tensor) -> torch.Tensor:
        """Per-member targets Q'_m(s', a') ([B, M]); with max_q_backup the max over 10 EMA-actor samples per member."""
        with torch.no_grad():
            if not self.cfg.max_q_backup:
                return self.critic_target(next_obs, self.ema_actor.sample(next_obs))
            rep = next_obs.repeat_interleave(10, dim=0)
            q = self.critic_target(rep, self.ema_actor.sample(rep))
            return q.reshape(next_obs.shape[0], 10, -1).max(dim=1).values

    def update(self, batch: dict, step: int) -> dict:
        cfg = self.cfg
        obs = self.policy.normalize(batch["observations"])
        next_obs = self.policy.normalize(batch["next_observations"])

        y = batch["rewards"][:, None] + cfg.gamma * (1.0 - batch["terminals"][:, None]) * self.next_q(next_obs)
        q = self.critic(obs, batch["actions"])
        critic_loss = ((q - y) ** 2).mean()
        clip_and_step(self.critic_opt, critic_loss, self.critic.parameters(), cfg.grad_clip)

        loss_bc, start_pred = bc_loss(self.actor, self.sde, batch["actions"], obs, cfg.loss_type)
        entropy = self.sde.entropy(start_pred)
        q_new = self.critic(obs, torch.clamp(start_pred, -1.0, 1.0))
        q_loss = -lcb(q_new, cfg.lcb_coef).mean() / q_new.abs().mean().detach()
        ent_loss = -entropy.mean() / entropy.abs().mean().detach()
        actor_loss = loss_bc + cfg.eta * q_loss + cfg.ent_coef * ent_loss
        clip_and_step(self.actor_opt, actor_loss, self.actor.parameters(), cfg.grad_clip)

        if step % cfg.ema_every == 0 and step >= cfg.ema_start:
            soft_update(self.ema_actor, self.actor, 1.0 - cfg.ema_decay)
        soft_update(self.critic_target, self.critic, cfg.tau)
        return {"critic_loss": float(critic_loss), "bc_loss": float(loss_bc), "q_loss": float(q_loss),
                "entropy": float(entropy.mean()), "actor_loss": float(actor_loss), "q_mean": float(q.mean()),
                "q_std": float(q.std(dim=1).mean())}

    def state_dict(self) -> dict:
        return {name: getattr(self, name).state_dict() for name in
                ("policy", "critic", "ema_actor", "actor_opt", "critic_opt")}

    def load_state_dict(self, state: dict) -> None:
        for name, value in state.items():
            getattr(self, name).load_state_dict(value)


def train(cfg: QEDiffusionConfig, run_dir: str, resume: bool = False, stop_at: int | None = None) -> dict:
    """As diffusion_ql.train: offline on cfg.dataset until total_steps or `stop_at`, resumable."""
    return train_offline("qe_diffusion", cfg, QEDiffusion, run_dir, resume, stop_at)
