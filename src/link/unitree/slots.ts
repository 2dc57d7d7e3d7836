// Which H1 joint drives which of the 20 unitree_go motor slots, and in which motor mode
// (unitree_sdk2 example/h1/low_level/motors.hpp JointIndex; h1-interface-and-runtimes.md §A6). The
// runtime maps between its joint order (src/robot/h1.ts) and the slots by joint name only.
import { H1_JOINT_NAMES, H1_NUM_JOINTS } from "../../robot/h1.ts";
import { MOTOR_MODE, NUM_MOTOR_SLOTS, UNUSED_SLOT } from "./constants.ts";

/** Slot -> joint (the runtime's names: the URDF's without the `_joint` suffix); null for unused slot 9. */
export const H1_MOTOR_SLOTS: readonly (string | null)[] = [
  "right_hip_roll", // 0
  "right_hip_pitch", // 1
  "right_knee", // 2
  "left_hip_roll", // 3
  "left_hip_pitch", // 4
  "left_knee", // 5
  "torso", // 6
  "left_hip_yaw", // 7
  "right_hip_yaw", // 8
  null, // 9: not used on the H1
  "left_ankle", // 10
  "right_ankle", // 11
  "right_shoulder_pitch", // 12
  "right_shoulder_roll", // 13
  "right_shoulder_yaw", // 14
  "right_elbow", // 15
  "left_shoulder_pitch", // 16
  "left_shoulder_roll", // 17
  "left_shoulder_yaw", // 18
  "left_elbow", // 19
];

/** Ankles and arms are the H1's weak motors (mode 0x01); hips, knees and torso strong (0x0A). */
const WEAK_JOINT = /^(left|right)_(ankle|shoulder_pitch|shoulder_roll|shoulder_yaw|elbow)$/;

/** Motor mode of each slot when the joint is driven; slot 9 stays 0 (stopped, all fields zero). */
export const SLOT_MODE: readonly number[] = H1_MOTOR_SLOTS.map((name) =>
  name === null ? MOTOR_MODE.STOP : WEAK_JOINT.test(name) ? MOTOR_MODE.WEAK : MOTOR_MODE.STRONG,
);

/** The URDF's joint name (h1_description, robot_state_publisher): the runtime's name + `_joint`. */
export function urdfJointName(name: string): string {
  return `${name}_joint`;
}

/** Slot of a joint by name (either spelling); throws on an unknown name. */
export function slotOfJoint(name: string): number {
  const bare = name.endsWith("_joint") ? name.slice(0, -"_joint".length) : name;
  const slot = H1_MOTOR_SLOTS.indexOf(bare);
  if (slot < 0) throw new Error(`no H1 motor slot for joint "${name}"`);
  return slot;
}

/** For each joint in the runtime's order (H1_JOINT_NAMES), its motor slot. */
export const JOINT_SLOT: readonly number[] = H1_JOINT_NAMES.map(slotOfJoint);

function checkMap(): void {
  const used = new Set(JOINT_SLOT);
  if (H1_MOTOR_SLOTS.length !== NUM_MOTOR_SLOTS || used.size !== H1_NUM_JOINTS || used.has(UNUSED_SLOT)) {
    throw new Error("the H1 slot map does not cover the 19 joints once each, leaving slot 9 free");
  }
}
checkMap();
