import assert from "node:assert/strict";
import { copyFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { PolicyEngine } from "../src/policy/engine.ts";
import { PolicyPackageError } from "../src/policy/manifest.ts";
import { readPolicyPackage, sha256File } from "../src/policy/package.ts";
import { silentLogger } from "../src/util/log.ts";
import { copyFixture, editManifest, fixturePath } from "./helpers/fixtures.ts";

const quiet = { logger: silentLogger };

async function loadFails(dir: string, pattern: RegExp, options = {}): Promise<void> {
  await assert.rejects(PolicyEngine.load(dir, { ...quiet, ...options }), (err: Error) => {
    assert.ok(err instanceof PolicyPackageError, `expected PolicyPackageError, got ${err.stack}`);
    assert.match(err.message, pattern);
    return true;
  });
}

/** Replace a file of a package and fix its hash in the manifest, so only the later checks can catch it. */
function replaceGraph(dir: string, role: string, source: string): void {
  copyFileSync(source, join(dir, `${role}.onnx`));
  editManifest(dir, (m) => (m.files[role].sha256 = sha256File(join(dir, `${role}.onnx`))));
}

test("a valid package loads and its files are hash-checked", () => {
  const pkg = readPolicyPackage(fixturePath("qvpo-bandit"));
  assert.deepEqual(Object.keys(pkg.paths).sort(), ["critic", "denoiser", "sampler"]);
  assert.ok(pkg.bytes.sampler! > 1000);
});

test("a missing policy.json or ONNX file names the file", () => {
  const dir = copyFixture("qvpo-bandit");
  rmSync(join(dir, "critic.onnx"));
  assert.throws(() => readPolicyPackage(dir), /critic\.onnx: missing file \(\/files\/critic\/path in policy\.json\)/);
  rmSync(join(dir, "policy.json"));
  assert.throws(() => readPolicyPackage(dir), /policy\.json: missing file/);
});

test("a manifest that is not JSON is a clear error", () => {
  const dir = copyFixture("qvpo-bandit");
  writeFileSync(join(dir, "policy.json"), "{ not json");
  assert.throws(() => readPolicyPackage(dir), /policy\.json: not valid JSON/);
});

test("a changed ONNX file fails its SHA-256 check", () => {
  const dir = copyFixture("qvpo-bandit");
  const file = join(dir, "sampler.onnx");
  const bytes = readFileSync(file);
  bytes[bytes.length - 10] ^= 0xff;
  writeFileSync(file, bytes);
  assert.throws(() => readPolicyPackage(dir), /sampler\.onnx: SHA-256 mismatch: file has [0-9a-f]{64}, \/files\/sampler\/sha256 says/);
});

test("declared tensor shapes must fit the role", () => {
  const dir = copyFixture("qvpo-bandit");
  editManifest(dir, (m) => (m.files.critic.outputs[0].shape = ["n", 3]));
  assert.throws(() => readPolicyPackage(dir), /\/files\/critic\/outputs\/0\/shape\/1 is 3, expected 2/);
  editManifest(dir, (m) => {
    m.files.critic.outputs[0].shape = ["n", 2];
    m.files.denoiser.inputs[1].dtype = "float32";
  });
  assert.throws(() => readPolicyPackage(dir), /\/files\/denoiser\/inputs\/1\/dtype is float32, expected int64/);
});

test("a corrupt ONNX file (with a matching hash) is refused by ONNX Runtime, naming the file", async () => {
  const dir = copyFixture("qvpo-bandit");
  writeFileSync(join(dir, "garbage.onnx"), Buffer.from("this is not a protobuf at all"));
  replaceGraph(dir, "sampler", join(dir, "garbage.onnx"));
  await loadFails(dir, /sampler\.onnx: ONNX Runtime cannot load it/);
});

test("a graph whose inputs differ from the manifest is refused", async () => {
  const dir = copyFixture("qvpo-bandit");
  replaceGraph(dir, "critic", join(dir, "denoiser.onnx"));
  await loadFails(dir, /critic\.onnx: graph inputs are \[noisy_action, step, observation\], \/files\/critic\/inputs declares \[observation, action\]/, {
    path: "stepwise",
  });
});

test("a graph of the wrong size is refused by its shape", async () => {
  const dir = copyFixture("qvpo-bandit");
  replaceGraph(dir, "sampler", fixturePath("dql-bandit", "sampler.onnx"));
  await loadFails(dir, /sampler\.onnx: inputs noise dimension 0 is 6 in the graph, 21 in \/files\/sampler\/inputs\/1\/shape/);
});

test("the probe rejects a graph that produces non-finite output", async () => {
  await loadFails(fixturePath("nan-output"), /sampler\.onnx: probe run on random observations gave non-finite output/, { path: "fused" });
  // The native path's weights are the clean network's: the cross-check against the graph catches it.
  await loadFails(fixturePath("nan-output"), /native and fused paths disagree by Infinity/, { path: "native" });
});

test("the load-time cross-check catches a manifest that misdescribes the graphs", async () => {
  const dir = copyFixture("qvpo-bandit");
  editManifest(dir, (m) => (m.selection.aggregation = "mean"));
  await loadFails(dir, /fused and stepwise paths disagree by/, { path: "fused" });
  await loadFails(dir, /native and fused paths disagree by/, { path: "native" });
  // Without the cross-check the same package loads: the check is what catches it.
  const engine = await PolicyEngine.load(dir, { ...quiet, crossCheck: false });
  await engine.close();
});

test("an unknown sampler path or K is refused", async () => {
  await assert.rejects(PolicyEngine.load(fixturePath("qvpo-bandit"), { ...quiet, K: 0 }), /K must be a positive integer/);
  await assert.rejects(PolicyEngine.load(fixturePath("qvpo-bandit"), { ...quiet, path: "magic" as never }), /sampler path must be/);
  const engine = await PolicyEngine.load(fixturePath("qvpo-bandit"), quiet);
  assert.throws(() => engine.setK(2.5), /K must be a positive integer/);
  await assert.rejects(engine.sample(new Float32Array(1)), /observation has 1 values, expected 1 x 2/);
  await engine.close();
});
