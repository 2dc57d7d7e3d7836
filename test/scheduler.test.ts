import assert from "node:assert/strict";
import { test } from "node:test";
import { Scheduler, type Clock } from "../src/control/scheduler.ts";

/** Virtual time: sleeping and working move it; nothing depends on the machine's speed. */
class VirtualClock implements Clock {
  t = 1000;
  now = () => this.t;
  sleep = async (ms: number) => {
    this.t += ms;
  };
}

test("ticks start on absolute deadlines: lateness of one tick never shifts the next", async () => {
  const clock = new VirtualClock();
  const starts: number[] = [];
  // Each tick takes 3 ms, plus a random-looking 0..6 ms of jitter: all within the 20 ms period.
  const s = new Scheduler(20, async (i) => {
    starts.push(clock.t - 1000);
    clock.t += 3 + ((i * 7) % 7);
  }, clock);
  await s.start(50);
  assert.deepEqual(starts, Array.from({ length: 50 }, (_, i) => i * 20), "no drift");
  assert.equal(s.stats.deadlineMisses, 0);
});

test("an overrun is a deadline miss; missed slots are skipped, not burst through", async () => {
  const clock = new VirtualClock();
  const starts: number[] = [];
  const missedFlags: boolean[] = [];
  const s = new Scheduler(20, async (i, missed) => {
    starts.push(clock.t - 1000);
    missedFlags.push(missed);
    clock.t += i === 3 ? 45 : 2; // tick 3 overruns two deadlines
  }, clock);
  await s.start(8);
  assert.deepEqual(starts, [0, 20, 40, 60, 120, 140, 160, 180]);
  assert.equal(s.stats.deadlineMisses, 1);
  assert.deepEqual(missedFlags, [false, false, false, false, true, false, false, false]);
});

test("stop() ends the loop after the running tick", async () => {
  const clock = new VirtualClock();
  let n = 0;
  const s = new Scheduler(10, async () => {
    n++;
    if (n === 5) void s.stop();
  }, clock);
  await s.start();
  assert.equal(n, 5);
  assert.throws(() => new Scheduler(0, async () => {}), /period must be positive/);
});
