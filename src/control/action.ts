// Action mapping: a policy's action (one value per joint it drives, in its own order) onto full H1 motor
// commands, always by joint name; joints it does not drive hold the home pose with HumanoidBench's gains.
import type { PolicyManifest } from "../policy/manifest.ts";
import { H1_JOINTS, H1_NUM_JOINTS, h1JointIndex } from "../robot/h1.ts";
import { motorCommand, type MotorCommand } from "../sim/h1-sim.ts";

/** target = offset + scale * a per joint (clamped to its range), with the policy's gains. */
export class ActionMapper {
  private readonly joint: Int32Array;

  constructor(private readonly m: PolicyManifest) {
    if (m.action.target !== "position") {
      throw new Error(`policy ${m.name} outputs "${m.action.target}" targets; the H1 takes position targets from policies`);
    }
    this.joint = Int32Array.from(m.action.joints, (name) => h1JointIndex(name));
  }

  toCommand(action: ArrayLike<number>, out: MotorCommand = motorCommand()): MotorCommand {
    for (let j = 0; j < H1_NUM_JOINTS; j++) {
      out.q[j] = H1_JOINTS[j].home;
      out.dq[j] = 0;
      out.tau[j] = 0;
      out.kp[j] = H1_JOINTS[j].kp;
      out.kd[j] = H1_JOINTS[j].kv;
    }
    const { offset, scale } = this.m.action;
    for (let k = 0; k < this.joint.length; k++) {
      const j = this.joint[k];
      const { lower, upper } = H1_JOINTS[j];
      const target = offset[k] + scale[k] * action[k];
      out.q[j] = target < lower ? lower : target > upper ? upper : target;
      out.kp[j] = this.m.pd_gains.kp[k];
      out.kd[j] = this.m.pd_gains.kd[k];
    }
    return out;
  }
}

