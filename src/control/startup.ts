// The start-up sequence run automatically in simulation: from passive through the configured steps (by
// default stand-up, hold, policy). Each step is requested once the previous one is reached; stand-up ends
// in hold by itself. A refused request (e.g. no fresh state yet) is retried on the next tick.
import type { StartupStep } from "../config/config.ts";
import type { ControlNode } from "./node.ts";

export class StartupSequence {
  private index = 0;

  constructor(
    private readonly node: ControlNode,
    private readonly steps: readonly StartupStep[],
  ) {}

  get done(): boolean {
    return this.index >= this.steps.length;
  }

  /** Call before each tick. */
  advance(): void {
    if (this.done) return;
    const step = this.steps[this.index];
    const mode = this.node.supervisor.mode;
    if (mode === step) {
      this.index++;
      return;
    }
    if (mode === "standup") return; // stand-up finishes by itself, in hold
    if (this.node.request(step, "start-up sequence") === null && this.node.supervisor.mode === step) this.index++;
  }

  restart(): void {
    this.index = 0;
  }
}
