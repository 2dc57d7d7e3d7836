import assert from "node:assert/strict";
import { test } from "node:test";
import { PolicyPackageError, validateManifest } from "../src/policy/manifest.ts";
import { POLICY_FIXTURES, fixturePath, readJson } from "./helpers/fixtures.ts";

const valid = () => readJson(fixturePath("qvpo-bandit", "policy.json"));

function rejects(edit: (m: any) => void, pattern: RegExp): void {
  const m = valid();
  edit(m);
  assert.throws(() => validateManifest(m, "policy.json"), (err: Error) => {
    assert.ok(err instanceof PolicyPackageError, `expected PolicyPackageError, got ${err}`);
    assert.match(err.message, /^policy\.json: /);
    assert.match(err.message, pattern);
    return true;
  });
}

test("the trainer's exported manifests validate", () => {
  for (const name of POLICY_FIXTURES) {
    const m = validateManifest(readJson(fixturePath(name, "policy.json")), name);
    assert.equal(m.format_version, 1);
    assert.equal(m.action.joints.length, m.action.size);
  }
});

test("an unknown format version is named as such", () => {
  rejects((m) => (m.format_version = 2), /\/format_version: unknown format version 2 \(this runtime reads 1\)/);
  rejects((m) => delete m.format_version, /unknown format version undefined/);
});

test("schema errors name the field", () => {
  rejects((m) => delete m.selection, /must have required property 'selection'/);
  rejects((m) => (m.diffusion.schedule = "sigmoid"), /\/diffusion\/schedule must be equal to one of the allowed values: \["vp","cosine","linear","mean_reverting"\]/);
  rejects((m) => (m.diffusion.steps = 0), /\/diffusion\/steps must be >= 1/);
  rejects((m) => (m.selection.aggregation = "max"), /\/selection\/aggregation/);
  rejects((m) => (m.files.sampler.sha256 = "abc"), /\/files\/sampler\/sha256 must match pattern/);
  rejects((m) => (m.files.sampler.path = "../../etc/passwd.onnx"), /\/files\/sampler\/path must match pattern/);
  rejects((m) => (m.files = {}), /\/files/);
  rejects((m) => (m.unexpected = 1), /must NOT have additional properties/);
});

test("sizes that must agree across sections are checked", () => {
  rejects((m) => (m.observation.terms[0].size += 1), /\/observation\/terms \(sum of sizes\) has \d+ entries, expected \d+ \(\/observation\/size\)/);
  rejects((m) => m.action.joints.pop(), /\/action\/joints has 1 entries, expected 2/);
  rejects((m) => m.action.scale.push(1), /\/action\/scale has 3 entries, expected 2/);
  rejects((m) => m.pd_gains.kd.pop(), /\/pd_gains\/kd/);
  rejects((m) => m.observation.normalizer.std.pop(), /\/observation\/normalizer\/std/);
  rejects((m) => (m.observation.terms = [m.observation.terms[0], m.observation.terms[0]]), /observation/);
  rejects((m) => {
    m.selection.aggregation = "lcb";
    m.critic.members = 1;
  }, /"lcb" needs \/critic\/members >= 2/);
  rejects((m) => (m.diffusion.steps = 7), /\/files\/sampler\/inputs\/1\/shape\/0 is 21, expected \/diffusion\/steps \+ 1 = 8/);
});

test("non-object manifests are rejected", () => {
  assert.throws(() => validateManifest([], "p.json"), /p\.json: expected a JSON object/);
  assert.throws(() => validateManifest(null, "p.json"), /expected a JSON object/);
});
