"""The H1's fixed facts as HumanoidBench defines them: joint order, ranges, default gains, effort limits.

These are the task's definition (the action mapping and the gains a policy is trained with), so they live
in code rather than being read back from whichever MJCF is loaded; `tests/test_h1_env.py` checks that
the loaded scene agrees with them.
"""

from __future__ import annotations

import numpy as np

JOINT_NAMES: tuple[str, ...] = (
    "left_hip_yaw", "left_hip_roll", "left_hip_pitch", "left_knee", "left_ankle",
    "right_hip_yaw", "right_hip_roll", "right_hip_pitch", "right_knee", "right_ankle",
    "torso",
    "left_shoulder_pitch", "left_shoulder_roll", "left_shoulder_yaw", "left_elbow",
    "right_shoulder_pitch", "right_shoulder_roll", "right_shoulder_yaw", "right_elbow",
)
NUM_JOINTS = len(JOINT_NAMES)

# HumanoidBench's ctrlrange = the joint ranges (rad); the action a in [-1, 1] spans them.
JOINT_LOW = np.array([-0.43, -0.43, -3.14, -0.26, -0.87, -0.43, -0.43, -3.14, -0.26, -0.87, -2.35,
                      -2.87, -0.34, -1.3, -1.25, -2.87, -3.11, -4.45, -1.25])
JOINT_HIGH = np.array([0.43, 0.43, 2.53, 2.05, 0.52, 0.43, 0.43, 2.53, 2.05, 0.52, 2.35,
                       2.87, 3.11, 4.45, 2.61, 2.87, 0.34, 1.3, 2.61])

# HumanoidBench's position-actuator gains (default classes hip, knee, ankle, torso, shoulder1/2, elbow).
HB_KP = np.array([200, 200, 200, 300, 40, 200, 200, 200, 300, 40, 300, 100, 100, 100, 100, 100, 100, 100, 100],
                 dtype=np.float64)
HB_KD = np.array([5, 5, 5, 6, 2, 5, 5, 5, 6, 2, 6, 2, 2, 2, 2, 2, 2, 2, 2], dtype=np.float64)

# The H1's effort limits = the actuators' forcerange (N m). Note the torso: kp 300 but limit 200.
EFFORT_LIMIT = np.array([200, 200, 200, 300, 40, 200, 200, 200, 300, 40, 200, 40, 40, 18, 18, 40, 40, 18, 18],
                        dtype=np.float64)

# Joint angles of keyframe `home` (both scenes): legs bent at hip -0.4, knee 0.8, ankle -0.4.
HOME_Q = np.array([0, 0, -0.4, 0.8, -0.4, 0, 0, -0.4, 0.8, -0.4, 0, 0, 0, 0, 0, 0, 0, 0, 0], dtype=np.float64)

TORSO_INDEX = JOINT_NAMES.index("torso")


def action_to_position(action: np.ndarray) -> np.ndarray:
    """HumanoidBench's mapping ctrl = (a + 1)/2 (high - low) + low, in float64.

    HB computes it against ctrlrange cast to float32 (Gymnasium's action bounds), which moves targets by
    up to ~1e-7 rad; we keep float64 so both runtimes can compute the same numbers."""
    return (np.asarray(action, np.float64) + 1.0) / 2.0 * (JOINT_HIGH - JOINT_LOW) + JOINT_LOW


def position_to_action(q: np.ndarray) -> np.ndarray:
    """The inverse mapping (HB's `normalize_action`)."""
    return 2.0 * (np.asarray(q, np.float64) - JOINT_LOW) / (JOINT_HIGH - JOINT_LOW) - 1.0


# The action that holds the home pose (HB's documented one is this rounded to 4 decimals).
HOME_ACTION = position_to_action(HOME_Q)
