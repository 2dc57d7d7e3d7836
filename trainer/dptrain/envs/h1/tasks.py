"""HumanoidBench's stand, walk, run and balance_simple: reward, termination, success bar.

Formulas of humanoid_bench/envs/basic_locomotion_envs.py (`Walk`, `Stand`, `Run`) and envs/balance.py
(`BalanceSimple`), evaluated in the same order so results match to the last bit on the same state:

    standing     = tol(head_z, (stand_height, inf), margin 1.65/4)                    gaussian, 0.1
    upright      = tol(torso xmat zz, (0.9, inf), margin 1.9, linear, value_at_margin 0)
    stand_reward = standing * upright
    small_control= (4 + mean_i tol(F_i, (0, 0), margin 10, quadratic, 0)) / 5
    stand / balance_simple:  reward = small_control * stand_reward * mean(tol(v_com[x, y], margin 2))
    walk / run (speed s):    move = (5 tol(v_com_x, (s, inf), margin s, linear, 0) + 1) / 6
                             reward = small_control * stand_reward * move
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import H1Sim
from .rewards import tolerance

STAND_HEIGHT = 1.65  # HB's _STAND_HEIGHT (head z above which standing = 1)
BOARD_HEIGHT = 0.37  # balance_simple adds the board's height to the head bound


@dataclass(frozen=True)
class TaskSpec:
    name: str
    scene: str                  # key of model.SCENE_FILES
    move_speed: float           # 0: the stand reward's dont_move term; > 0: walk/run's move term
    head_bound: float           # lower bound of `standing`
    min_pelvis_z: float         # terminated when qpos[2] falls below it
    board_contacts: bool        # balance_simple's contact rule ends the episode
    success_bar: float          # HB's episode-return bar (metadata only)
    velocity_command: tuple[float, float, float]  # (vx, vy, yaw rate) the task asks for

    @property
    def env_name(self) -> str:
        return f"h1-{self.name}"


TASKS: dict[str, TaskSpec] = {
    "stand": TaskSpec("stand", "h1_flat", 0.0, STAND_HEIGHT, 0.2, False, 800.0, (0.0, 0.0, 0.0)),
    "walk": TaskSpec("walk", "h1_flat", 1.0, STAND_HEIGHT, 0.2, False, 700.0, (1.0, 0.0, 0.0)),
    "run": TaskSpec("run", "h1_flat", 5.0, STAND_HEIGHT, 0.2, False, 700.0, (5.0, 0.0, 0.0)),
    "balance_simple": TaskSpec("balance_simple", "h1_balance_simple", 0.0, STAND_HEIGHT + BOARD_HEIGHT, 0.8, True,
                               800.0, (0.0, 0.0, 0.0)),
}


def task_reward(task: TaskSpec, sim: H1Sim) -> tuple[float, dict[str, float]]:
    """The per-step reward and its terms, read from the state the last substep's forward pass left."""
    standing = tolerance(sim.head_height(), bounds=(task.head_bound, float("inf")), margin=STAND_HEIGHT / 4)
    upright = tolerance(sim.torso_upright(), bounds=(0.9, float("inf")), sigmoid="linear", margin=1.9,
                        value_at_margin=0)
    stand_reward = standing * upright
    small_control = tolerance(sim.actuator_forces(), margin=10, value_at_margin=0, sigmoid="quadratic").mean()
    small_control = (4 + small_control) / 5
    terms = {"standing": standing, "upright": upright, "stand_reward": stand_reward,
             "small_control": float(small_control)}
    com_velocity = sim.center_of_mass_velocity()
    if task.move_speed == 0:
        dont_move = tolerance(com_velocity[[0, 1]], margin=2).mean()
        terms["dont_move"] = float(dont_move)
        return float(small_control * stand_reward * dont_move), terms
    move = tolerance(com_velocity[0], bounds=(task.move_speed, float("inf")), margin=task.move_speed,
                     value_at_margin=0, sigmoid="linear")
    move = (5 * move + 1) / 6
    terms["move"] = move
    return float(small_control * stand_reward * move), terms


def task_terminated(task: TaskSpec, sim: H1Sim) -> bool:
    """Pelvis height below the task's bound; for balance_simple also HB's contact rule: a contact of the
    sphere with anything but the floor or the board, or any floor contact not involving the sphere
    (a foot or the board on the floor). Contacts are those of the last collision pass."""
    if sim.data.qpos[2] < task.min_pelvis_z:
        return True
    if not task.board_contacts:
        return False
    sphere, board, floor = _balance_geoms(sim)
    for pair in sim.contact_geom_pairs():
        if sphere in pair and floor not in pair and board not in pair:
            return True
        if floor in pair and sphere not in pair:
            return True
    return False


def _balance_geoms(sim: H1Sim) -> tuple[int, int, int]:
    m = sim.model
    floor = 0  # HB hard-codes geom 0; the contract makes the floor geom 0 in our scenes too
    return m.geom("pivot_sphere_collision").id, m.geom("stand_board_collision").id, floor
