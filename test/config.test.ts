import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError, loadConfig, parseOverride } from "../src/config/config.ts";

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "cfg-")), "robot.yaml");
  writeFileSync(path, text);
  return path;
}

function fails(sources: Parameters<typeof loadConfig>[0], pattern: RegExp): void {
  assert.throws(() => loadConfig(sources), (err: Error) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.match(err.message, pattern);
    return true;
  });
}

test("the defaults load and validate", () => {
  const c = loadConfig({ env: {} });
  assert.equal(c.control.rate_hz, 50);
  assert.equal(c.safety.soft_limit_factor, 0.95);
  assert.equal(c.api.host, "127.0.0.1");
  assert.equal(c.api.token, null);
  assert.equal(c.policy.threads, "auto");
});

test("a file merges over the defaults, --set over the file, the environment supplies the token", () => {
  const path = file("safety:\n  kp_max: 300\n  watchdog:\n    max_tilt_rad: 0.5\ncontrol:\n  velocity_command: [0.5, 0, 0]\n");
  const c = loadConfig({ file: path, overrides: ["safety.kp_max=250", "link.sim.task=h1-walk"], env: { H1RT_API_TOKEN: "0123456789abcdef0123" } });
  assert.equal(c.safety.kp_max, 250);
  assert.equal(c.safety.watchdog.max_tilt_rad, 0.5);
  assert.equal(c.safety.watchdog.max_state_age_ms, 60, "untouched defaults stay");
  assert.deepEqual(c.control.velocity_command, [0.5, 0, 0]);
  assert.equal(c.link.sim.task, "h1-walk");
  assert.equal(c.api.token, "0123456789abcdef0123");
});

test("errors name the file, the path in it and what was expected", () => {
  fails({ file: file("safety:\n  soft_limit_factor: 1.5\n") }, /robot\.yaml: invalid configuration: \/safety\/soft_limit_factor must be <= 1 \(got 1\.5\)/);
  fails({ file: file("link:\n  kind: serial\n") }, /\/link\/kind must be equal to one of the allowed values \["sim","ros2","dds"\] \(got "serial"\)/);
  fails({ file: file("control:\n  rate: 50\n") }, /\/control must NOT have additional properties \("rate"\)/);
  fails({ file: file("safety:\n  joints:\n    tail: {kp_max: 1}\n") }, /\/safety\/joints\/tail: unknown joint/);
  fails({ file: file("api: [1, 2\n") }, /robot\.yaml: not valid YAML/);
  fails({ file: "/nonexistent/robot.yaml" }, /\/nonexistent\/robot\.yaml: no such file/);
  fails({ overrides: ["safety.kp_max=-3"] }, /with --set safety\.kp_max=-3\): invalid configuration: \/safety\/kp_max must be >= 0/);
  fails({ env: { H1RT_API_TOKEN: "short" } }, /\/api\/token must NOT have fewer than 16 characters/);
  fails({ overrides: ["policy.threads=two"] }, /\/policy\/threads must be integer \(got "two"\); \/policy\/threads must be equal to one of the allowed values \["auto"\]/);
});

test("overrides parse YAML values and reject malformed paths", () => {
  assert.deepEqual(parseOverride("a.b=[1, 2]"), { a: { b: [1, 2] } });
  assert.deepEqual(parseOverride("a=null"), { a: null });
  assert.deepEqual(parseOverride("a.b=true"), { a: { b: true } });
  assert.throws(() => parseOverride("no-equals"), /expected PATH=VALUE/);
  assert.throws(() => parseOverride("a..b=1"), /dot-separated names/);
});
