"""Sim-in-the-loop: the H1 runtime over ROS 2 against unitree_mujoco's simulated H1 (docs/ros2.md).

    ros2 launch launch/h1_sim.launch.py unitree_mujoco:=$HOME/unitree_mujoco/simulate/build/unitree_mujoco \
        config:=config/robot.yaml [policy:=models/NAME] [domain_id:=1]

unitree_mujoco (C++ simulate/) speaks the robot's own DDS topics (rt/lowcmd, rt/lowstate, unitree_go for the
H1) on the loopback interface, on domain 1 so that it can never be mistaken for the real robot (domain 0).
The node runs exactly as on the robot (link.kind ros2), only the DDS profile and domain differ. Set
`enable_elastic_band: 1` in unitree_mujoco's simulate/config.yaml to hang the H1 as in a gantry, and
`use_joystick: 1` to have a gamepad play the Unitree remote. unitree_mujoco checks no CRC: the unit
tests are the guard for that (test/unitree-crc.test.ts).
"""

import os

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess, OpaqueFunction, SetEnvironmentVariable
from launch.substitutions import LaunchConfiguration

REPO = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
LOOPBACK = ('<CycloneDDS><Domain Id="any"><General><Interfaces>'
            '<NetworkInterface name="lo" priority="default" multicast="default"/>'
            '</Interfaces></General></Domain></CycloneDDS>')


def processes(context, *args, **kwargs):
    repo = LaunchConfiguration("repo").perform(context)
    sim = LaunchConfiguration("unitree_mujoco").perform(context)
    domain = LaunchConfiguration("domain_id").perform(context)
    config = LaunchConfiguration("config").perform(context)
    policy = LaunchConfiguration("policy").perform(context)
    if domain == "0":
        raise RuntimeError("domain 0 is the real robot's; the simulation runs on another domain (default 1)")
    cmd = ["node", "--import", "tsx", "src/cli/start.ts", "--config", config, "--set", "link.kind=ros2"]
    if policy:
        cmd += ["--policy", policy]
    return [
        ExecuteProcess(cmd=[sim, "-r", "h1", "-i", domain, "-n", "lo"], cwd=os.path.dirname(sim), output="screen", name="unitree_mujoco"),
        ExecuteProcess(cmd=cmd, cwd=repo, output="screen", emulate_tty=True, sigterm_timeout="10", name="h1_runtime"),
    ]


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument("repo", default_value=REPO, description="the h1-diffusion-runtime checkout"),
        DeclareLaunchArgument("unitree_mujoco", description="path of unitree_mujoco's built simulate executable"),
        DeclareLaunchArgument("config", default_value=os.path.join(REPO, "config", "default.yaml"), description="configuration file"),
        DeclareLaunchArgument("policy", default_value="", description="policy package; empty = the config's policy.path"),
        DeclareLaunchArgument("domain_id", default_value="1", description="DDS domain of the simulation (not 0)"),
        SetEnvironmentVariable("RMW_IMPLEMENTATION", "rmw_cyclonedds_cpp"),
        SetEnvironmentVariable("CYCLONEDDS_URI", LOOPBACK),
        SetEnvironmentVariable("ROS_DOMAIN_ID", LaunchConfiguration("domain_id")),
        OpaqueFunction(function=processes),
    ])
