"""The H1 runtime on the real robot over ROS 2 (docs/ros2.md).

    ros2 launch launch/h1_real.launch.py config:=config/robot.yaml [policy:=models/NAME]
        [cyclonedds_uri:=file:///path/to/cyclonedds.xml] [domain_id:=0]

Runs the control node (src/cli/start.ts) with link.kind ros2, CycloneDDS as the RMW, the CycloneDDS
profile that names the network interface wired to the robot (launch/cyclonedds.xml: edit the interface
name there), and the robot's DDS domain 0. The node starts in passive; the operator drives the modes
(remote, ROS 2 services, HTTP API). Ctrl-C (SIGINT) makes it send a last damping command and exit.
Before this: ROS 2 and unitree_ros2's cyclonedds_ws sourced, the robot in debug mode (L2+R2).
"""

import os

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess, OpaqueFunction, SetEnvironmentVariable
from launch.substitutions import LaunchConfiguration

REPO = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


def node_process(context, *args, **kwargs):
    repo = LaunchConfiguration("repo").perform(context)
    config = LaunchConfiguration("config").perform(context)
    policy = LaunchConfiguration("policy").perform(context)
    cmd = ["node", "--import", "tsx", "src/cli/start.ts", "--config", config, "--set", "link.kind=ros2"]
    if policy:
        cmd += ["--policy", policy]
    # SIGINT first: the node's own handler stops the loop and damps the motors before exiting.
    return [ExecuteProcess(cmd=cmd, cwd=repo, output="screen", emulate_tty=True, sigterm_timeout="10", name="h1_runtime")]


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument("repo", default_value=REPO, description="the h1-diffusion-runtime checkout (npm ci done)"),
        DeclareLaunchArgument("config", default_value=os.path.join(REPO, "config", "robot.yaml"),
                              description="configuration file merged over config/default.yaml (docs/ros2.md shows one)"),
        DeclareLaunchArgument("policy", default_value="", description="policy package; empty = the config's policy.path"),
        DeclareLaunchArgument("cyclonedds_uri", default_value="file://" + os.path.join(REPO, "launch", "cyclonedds.xml"),
                              description="CycloneDDS profile naming the interface wired to the robot"),
        DeclareLaunchArgument("domain_id", default_value="0", description="DDS domain of the robot (0)"),
        SetEnvironmentVariable("RMW_IMPLEMENTATION", "rmw_cyclonedds_cpp"),
        SetEnvironmentVariable("CYCLONEDDS_URI", LaunchConfiguration("cyclonedds_uri")),
        SetEnvironmentVariable("ROS_DOMAIN_ID", LaunchConfiguration("domain_id")),
        SetEnvironmentVariable("ROS_LOCALHOST_ONLY", "0"),
        OpaqueFunction(function=node_process),
    ])
