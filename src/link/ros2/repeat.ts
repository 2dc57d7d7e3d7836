// Repeating the latest command to the motors at a fixed rate (link.ros2.lowcmd_repeat_hz), as Unitree's
// own controllers do at 500 Hz, without ever holding a stale target: once the control loop has not sent
// a command for repeat_max_age_ms, what is repeated is damping (kp 0, the configured damping kd, no
// feed-forward), so a stalled loop leaves the robot damped, not stiff at its last target. The same damping
// command is what the link sends last when it closes.
import { copyCommand, motorCommand, type MotorCommand } from "../../sim/h1-sim.ts";

/** Damping at positions `q`: kp 0, kd `dampingKd`, no velocity target, no feed-forward. */
export function dampingCommand(q: ArrayLike<number>, dampingKd: ArrayLike<number>, out: MotorCommand = motorCommand()): MotorCommand {
  for (let j = 0; j < out.q.length; j++) {
    out.q[j] = Number.isFinite(q[j]) ? q[j] : 0;
    out.dq[j] = 0;
    out.tau[j] = 0;
    out.kp[j] = 0;
    out.kd[j] = dampingKd[j];
  }
  return out;
}

export class CommandRepeater {
  private readonly latest = motorCommand();
  private readonly damped = motorCommand();
  private sentAtMs = -Infinity;
  private have = false;

  constructor(
    private readonly maxAgeMs: number,
    private readonly dampingKd: ArrayLike<number>,
  ) {}

  /** The control loop's command, sent at `nowMs`. */
  update(command: MotorCommand, nowMs: number): void {
    copyCommand(command, this.latest);
    this.sentAtMs = nowMs;
    this.have = true;
  }

  /** What to repeat at `nowMs`: null before the first command; damping once the latest is too old. */
  due(nowMs: number): { command: MotorCommand; stale: boolean } | null {
    if (!this.have) return null;
    if (nowMs - this.sentAtMs <= this.maxAgeMs) return { command: this.latest, stale: false };
    return { command: dampingCommand(this.latest.q, this.dampingKd, this.damped), stale: true };
  }
}
