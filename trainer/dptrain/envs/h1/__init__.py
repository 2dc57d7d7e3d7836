"""The simulated Unitree H1 (docs/simulation.md): HumanoidBench's tasks on the project's MJCF scenes."""

from __future__ import annotations

from .env import MAX_EPISODE_STEPS, H1Env
from .model import CONTROL_DT, CONTROL_RATE_HZ, FRAME_SKIP, H1Sim, MotorCommand, RobotState, apply_motor_command, scene_path, sim_dir
from .observations import TERMS as OBSERVATION_TERMS
from .robot import (EFFORT_LIMIT, HB_KD, HB_KP, HOME_ACTION, HOME_Q, JOINT_HIGH, JOINT_LOW, JOINT_NAMES,
                    action_to_position, position_to_action)
from .tasks import TASKS, task_reward, task_terminated

__all__ = ["CONTROL_DT", "CONTROL_RATE_HZ", "EFFORT_LIMIT", "FRAME_SKIP", "HB_KD", "HB_KP", "HOME_ACTION",
           "HOME_Q", "JOINT_HIGH", "JOINT_LOW", "JOINT_NAMES", "MAX_EPISODE_STEPS", "OBSERVATION_TERMS", "TASKS",
           "H1Env", "H1Sim", "MotorCommand", "RobotState", "action_to_position", "apply_motor_command",
           "position_to_action", "scene_path", "sim_dir", "task_reward", "task_terminated"]
