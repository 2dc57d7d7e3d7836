// The Unitree H1 (original, 19 actuated joints) as data: joint names in HumanoidBench's order (the
// simulator's actuator order), ranges, effort and velocity limits (URDF h1_description), HumanoidBench's
// position gains, the home pose. Sources: ../shared/reference/humanoidbench.md §1.2,
// h1-interface-and-runtimes.md §A12.

export interface JointSpec {
  name: string;
  lower: number; // rad
  upper: number; // rad
  effort: number; // N·m
  velocity: number; // rad/s
  kp: number; // HumanoidBench's position gain
  kv: number; // HumanoidBench's velocity gain
  home: number; // rad, keyframe "home"
}

const leg = (side: "left" | "right"): JointSpec[] => [
  { name: `${side}_hip_yaw`, lower: -0.43, upper: 0.43, effort: 200, velocity: 23, kp: 200, kv: 5, home: 0 },
  { name: `${side}_hip_roll`, lower: -0.43, upper: 0.43, effort: 200, velocity: 23, kp: 200, kv: 5, home: 0 },
  { name: `${side}_hip_pitch`, lower: -3.14, upper: 2.53, effort: 200, velocity: 23, kp: 200, kv: 5, home: -0.4 },
  { name: `${side}_knee`, lower: -0.26, upper: 2.05, effort: 300, velocity: 14, kp: 300, kv: 6, home: 0.8 },
  { name: `${side}_ankle`, lower: -0.87, upper: 0.52, effort: 40, velocity: 9, kp: 40, kv: 2, home: -0.4 },
];

const arm = (side: "left" | "right"): JointSpec[] => {
  // Roll and yaw ranges mirror between the arms.
  const roll = side === "left" ? [-0.34, 3.11] : [-3.11, 0.34];
  const yaw = side === "left" ? [-1.3, 4.45] : [-4.45, 1.3];
  return [
    { name: `${side}_shoulder_pitch`, lower: -2.87, upper: 2.87, effort: 40, velocity: 9, kp: 100, kv: 2, home: 0 },
    { name: `${side}_shoulder_roll`, lower: roll[0], upper: roll[1], effort: 40, velocity: 9, kp: 100, kv: 2, home: 0 },
    { name: `${side}_shoulder_yaw`, lower: yaw[0], upper: yaw[1], effort: 18, velocity: 20, kp: 100, kv: 2, home: 0 },
    { name: `${side}_elbow`, lower: -1.25, upper: 2.61, effort: 18, velocity: 20, kp: 100, kv: 2, home: 0 },
  ];
};

/** The 19 joints in HumanoidBench's order: qpos[7:26], qvel[6:25], actuators 0..18. */
export const H1_JOINTS: readonly JointSpec[] = [
  ...leg("left"),
  ...leg("right"),
  { name: "torso", lower: -2.35, upper: 2.35, effort: 200, velocity: 23, kp: 300, kv: 6, home: 0 },
  ...arm("left"),
  ...arm("right"),
];

export const H1_JOINT_NAMES: readonly string[] = H1_JOINTS.map((j) => j.name);
export const H1_NUM_JOINTS = H1_JOINTS.length;

/** Root pose of keyframe "home": position, then quaternion w x y z. */
export const H1_HOME_ROOT = [0, 0, 0.98, 1, 0, 0, 0] as const;

/** Index of a joint by name; throws on an unknown name (mapping is always by name). */
export function h1JointIndex(name: string): number {
  const i = H1_JOINT_NAMES.indexOf(name);
  if (i < 0) throw new Error(`unknown H1 joint "${name}"`);
  return i;
}
