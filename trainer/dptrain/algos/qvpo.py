"""QVPO (Ding et al., NeurIPS 2024): online diffusion RL with a Q-weighted variational loss.

Follows the authors' code (wadx2019/qvpo, see docs/algorithms.md):
- behaviour action: best of K_b samples of the current actor by min(Q1, Q2) (uniform for the first
  `warmup_steps`);
- critic: double-Q TD target from the best of K_t samples of the *target* actor, ranked by the target critic;
- actor: for each state draw N_d samples, V = their mean min-Q, keep the best a*, weight
  w = max(Q(a*) - V, 0) (the `qadv` transform); add `uniform_samples` uniform actions per state
  weighted alpha_ent(step) * w (the entropy term, alpha decaying linearly to a floor); one weighted
  noise-prediction loss over the concatenated batch;
- soft target updates (tau) of critic and actor after every update; Adam eps 1e-5; grad-norm clip 2.

One deliberate difference: the TD target bootstraps through time-limit truncations (Gymnasium's
`terminated` vs `truncated`); the authors' gym-v3 code treats the time limit as terminal.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch

from ..common import clip_and_step, evaluate_and_keep_best, soft_update
from ..envs import make_env
from ..policy import DiffusionPolicy, PolicySpec, build_policy
from ..replay import ReplayBuffer
from ..run import Run, seed_everything
from ..selection import aggregate


@dataclass
class QVPOConfig:
    env: str = "Pendulum-v1"
    seed: int = 0
    total_steps: int = 1_000_000
    warmup_steps: int = 10_000  # uniform random actions, no updates
    batch_size: int = 256
    gamma: float = 0.99
    tau: float = 0.005
    actor_lr: float = 1e-4
    critic_lr: float = 3e-4
    adam_eps: float = 1e-5
    grad_clip: float = 2.0
    T: int = 20
    schedule: str = "cosine"
    hidden: int = 256
    layers: int = 3
    t_dim: int = 32
    t_hidden: int = 256
    critic_hidden: int = 256
    train_sample: int = 64  # N_d: samples per state for the Q-weight
    behavior_sample: int = 4  # K_b
    target_sample: int = 4  # K_t
    eval_sample: int = 32  # K at evaluation and in the exported package
    entropy_alpha: float = 0.02  # alpha_0 of the entropy term
    entropy_alpha_min: float = 0.002
    uniform_samples: int = 10  # uniform actions per state for the entropy term
    replay_size: int = 1_000_000
    normalize_obs: bool = False
    eval_interval: int = 10_000
    eval_episodes: int = 10
    checkpoint_interval: int = 10_000
    log_interval: int = 1000
    device: str = "cpu"
    threads: int = 0  # torch intra-op threads; 0 = torch's default


def policy_spec(cfg: QVPOConfig, obs_dim: int, act_dim: int) -> PolicySpec:
    return PolicySpec(obs_dim, act_dim, cfg.hidden, cfg.layers, cfg.t_dim, cfg.t_hidden, cfg.schedule, cfg.T,
                      critic_hidden=cfg.critic_hidden,
                      normalize=cfg.normalize_obs, K=cfg.eval_sample, aggregation="min", rule="argmax")


def entropy_alpha(cfg: QVPOConfig, step: int) -> float:
    return min(cfg.entropy_alpha, max(cfg.entropy_alpha_min, cfg.entropy_alpha * (1.0 - step / cfg.total_steps)))


def repeat_rows(x: torch.Tensor, n: int) -> torch.Tensor:
    """[B, D] -> [B*n, D], each row n times in a row (the candidate layout of the sampler)."""
    return x.repeat_interleave(n, dim=0)


@torch.no_grad()
def best_of_k(actor, critic, obs_n: torch.Tensor, k: int):
    """Sample k actions per state; return the best by min-Q, its Q and the mean Q over the k ([B, A], [B], [B])."""
    B = obs_n.shape[0]
    obs_rep = repeat_rows(obs_n, k)
    cands = actor.sample(obs_rep)
    q = aggregate(critic(obs_rep, cands), "min").reshape(B, k)
    best = q.argmax(dim=1)
    a_best = cands.reshape(B, k, -1)[torch.arange(B), best]
    return a_best, q.max(dim=1).values, q.mean(dim=1)


class QVPO:
    def __init__(self, cfg: QVPOConfig, obs_dim: int, act_dim: int):
        self.cfg, self.device = cfg, torch.device(cfg.device)
        self.spec = policy_spec(cfg, obs_dim, act_dim)
        self.policy: DiffusionPolicy = build_policy(self.spec).to(self.device)
        self.actor, self.critic = self.policy.diffusion, self.policy.critic
        self.actor_target, self.critic_target = copy.deepcopy(self.actor), copy.deepcopy(self.critic)
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=cfg.actor_lr, eps=cfg.adam_eps)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=cfg.critic_lr, eps=cfg.adam_eps)

    def update(self, batch: dict, step: int) -> dict:
        cfg = self.cfg
        obs = self.policy.normalize(batch["observations"])
        next_obs = self.policy.normalize(batch["next_observations"])

        # Critic: y = r + gamma (1 - terminal) min Q'(s', best of K_t target-actor samples).
        _, q_next, _ = best_of_k(self.actor_target, self.critic_target, next_obs, cfg.target_sample)
        y = batch["rewards"] + cfg.gamma * (1.0 - batch["terminals"]) * q_next
        q = self.critic(obs, batch["actions"])
        critic_loss = ((q - y[:, None]) ** 2).mean(dim=0).sum()
        clip_and_step(self.critic_opt, critic_loss, self.critic.parameters(), cfg.grad_clip)

        # Actor: Q-weighted noise-prediction loss on the best of N_d samples, plus the entropy term.
        a_star, q_star, v = best_of_k(self.actor, self.critic, obs, cfg.train_sample)
        w = torch.clamp(q_star - v, min=0.0)
        n_u = cfg.uniform_samples
        uniform = torch.rand(obs.shape[0] * n_u, a_star.shape[1], device=self.device) * 2.0 - 1.0
        x0 = torch.cat([a_star, uniform])
        states = torch.cat([obs, repeat_rows(obs, n_u)])
        weights = torch.cat([w, repeat_rows(w[:, None], n_u)[:, 0] * entropy_alpha(cfg, step)])
        actor_loss = self.actor.loss(x0, states, weights)
        clip_and_step(self.actor_opt, actor_loss, self.actor.parameters(), cfg.grad_clip)

        soft_update(self.critic_target, self.critic, cfg.tau)
        soft_update(self.actor_target, self.actor, cfg.tau)
        return {"critic_loss": float(critic_loss), "actor_loss": float(actor_loss), "q_mean": float(q.mean()),
                "weight_mean": float(w.mean()), "alpha_ent": entropy_alpha(cfg, step)}

    @torch.no_grad()
    def act(self, obs: np.ndarray) -> np.ndarray:
        o = torch.as_tensor(np.asarray(obs, np.float32), device=self.device)[None]
        a, _, _ = best_of_k(self.actor, self.critic, self.policy.normalize(o), self.cfg.behavior_sample)
        return a[0].cpu().numpy()

    def state_dict(self) -> dict:
        return {name: getattr(self, name).state_dict() for name in
                ("policy", "actor_target", "critic_target", "actor_opt", "critic_opt")}

    def load_state_dict(self, state: dict) -> None:
        for name, value in state.items():
            getattr(self, name).load_state_dict(value)


def train(cfg: QVPOConfig, run_dir: str, resume: bool = False, stop_at: int | None = None) -> dict:
    """Train (or resume) a run, until total_steps or `stop_at` (to split a run over sessions; a checkpoint is
    written there). Returns {'step', 'best_return', 'last_return'}."""
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    env = make_env(cfg.env, seed=cfg.seed)
    obs_dim, act_dim = env.observation_space.shape[0], env.action_space.shape[0]
    agent = QVPO(cfg, obs_dim, act_dim)
    replay = ReplayBuffer(obs_dim, act_dim, min(cfg.replay_size, cfg.total_steps))
    rng = np.random.default_rng(cfg.seed)
    run = Run(run_dir, "qvpo", {**cfg.__dict__})
    step, best, last, episode = 0, -np.inf, float("nan"), 0

    state = run.load() if resume else None
    if state is not None:
        agent.load_state_dict(state["agent"])
        replay.load_state_dict(state["replay"])
        rng.bit_generator.state = state["np_rng"]
        step, best, last, episode = state["step"], state["best_return"], state["last_return"], state["episode"]

    def snapshot(**extra) -> dict:
        return {"algorithm": "qvpo", "spec": agent.spec.__dict__, "policy": agent.policy.state_dict(),
                "env": cfg.env, "seed": cfg.seed, "step": step, **extra}

    obs, _ = env.reset(seed=cfg.seed + episode)
    ep_return, ep_len = 0.0, 0
    bar = run.progress(cfg.total_steps, step, "qvpo")
    end = min(cfg.total_steps, stop_at or cfg.total_steps)
    while step < end:
        if cfg.normalize_obs:
            agent.policy.normalizer.update(torch.as_tensor(obs))
        action = env.action_space.sample() if step < cfg.warmup_steps else agent.act(obs)
        next_obs, reward, terminated, truncated, _ = env.step(action)
        replay.add(obs, action, reward, next_obs, terminated)
        obs, ep_return, ep_len = next_obs, ep_return + float(reward), ep_len + 1
        step += 1
        if terminated or truncated:
            run.log("episodes", {"step": step, "return": ep_return, "length": ep_len})
            episode += 1
            obs, _ = env.reset(seed=cfg.seed + episode)
            ep_return, ep_len = 0.0, 0

        if step > cfg.warmup_steps and replay.size >= cfg.batch_size:
            stats = agent.update(replay.sample(cfg.batch_size, rng, agent.device), step)
            if step % cfg.log_interval == 0:
                run.log("train", {"step": step, **stats, "wall_s": run.wall_s})
                bar.set_postfix(critic=f"{stats['critic_loss']:.3g}", actor=f"{stats['actor_loss']:.3g}")

        if step % cfg.eval_interval == 0 or step == cfg.total_steps:
            last, best = evaluate_and_keep_best(run, agent.policy, cfg, step, best, snapshot, bar)
        if step % cfg.checkpoint_interval == 0 or step == end:
            run.save(snapshot(agent=agent.state_dict(), replay=replay.state_dict(), np_rng=rng.bit_generator.state,
                              best_return=best, last_return=last, episode=episode))
        bar.update(1)
    bar.close()
    env.close()
    return {"step": step, "best_return": best, "last_return": last}
