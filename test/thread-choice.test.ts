// ThreadChoice: a two-thread native sampler keeps to whichever of sharing and running alone has been faster.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ThreadChoice } from "../src/policy/thread-choice.ts";

/** Runs `calls` calls of 32 candidates that take `alone` or `shared` ms; returns how many shared. */
function drive(choice: ThreadChoice, calls: number, alone: number, shared: number): number {
  let sharedCalls = 0;
  for (let i = 0; i < calls; i++) {
    const share = choice.next();
    sharedCalls += share ? 1 : 0;
    choice.record(share, share ? shared : alone, 32);
  }
  return sharedCalls;
}

test("it shares until running alone has been measured, then keeps to the faster mode and tries the other every 16th call", () => {
  const c = new ThreadChoice();
  assert.equal(drive(c, 15, 3, 2), 15, "shares first");
  assert.equal(c.next(), false, "the 16th call runs alone");
  c.record(false, 3, 32);
  assert.equal(drive(c, 160, 3, 2), 150, "sharing is faster: 15 of every 16 calls share");
  assert.ok(Math.abs(c.averages.shared - 2 / 32) < 1e-12 && Math.abs(c.averages.alone - 3 / 32) < 1e-12);
});

test("when the machine changes it follows within a few tries of the other mode", () => {
  const c = new ThreadChoice();
  drive(c, 320, 3, 2);
  // The host now puts both vCPUs on one core: sharing costs more than running alone.
  drive(c, 16 * 8, 3, 3.6);
  assert.equal(c.sharedIsFaster, false);
  assert.equal(drive(c, 160, 3, 3.6), 10, "now 1 in 16 calls shares, to notice a change back");
  drive(c, 16 * 8, 3, 2);
  assert.equal(c.sharedIsFaster, true, "and back");
});

test("one stalled call does not flip the choice; nonsense times are ignored", () => {
  const c = new ThreadChoice();
  drive(c, 320, 3, 2);
  c.record(true, 400, 32); // the VM stalled during a shared call: counted as at most twice the average
  assert.equal(c.sharedIsFaster, true);
  c.record(true, Number.NaN, 32);
  c.record(true, -1, 32);
  c.record(false, 1, 0);
  assert.ok(Number.isFinite(c.averages.shared) && Number.isFinite(c.averages.alone));
  assert.equal(c.sharedIsFaster, true);
});
