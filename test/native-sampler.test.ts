// The native sampler path (src/policy/native.ts, native/sampler): the C kernel against the ONNX graphs the
// same trainer exported, both kernels (AVX-512 and portable), odd batch shapes, and what it refuses.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { maxAbsDiff, PolicyEngine, type EngineOptions } from "../src/policy/engine.ts";
import { PolicyPackageError } from "../src/policy/manifest.ts";
import { NATIVE_ADDON_PATH, nativeAvailability, NativeSampler } from "../src/policy/native.ts";
import { readPolicyPackage, sha256File } from "../src/policy/package.ts";
import { SeededNormal } from "../src/policy/noise.ts";
import { silentLogger } from "../src/util/log.ts";
import { copyFixture, editManifest, fixturePath, POLICY_FIXTURES } from "./helpers/fixtures.ts";

const MODELS = fileURLToPath(new URL("../models/", import.meta.url));
const NATIVE = fileURLToPath(new URL("../native/sampler/", import.meta.url));
const quiet = { logger: silentLogger, crossCheck: false };
const KERNELS = nativeAvailability().isa === "avx512" ? (["avx512", "generic"] as const) : (["generic"] as const);

/** Run `body` with the portable kernel forced (the kernel is chosen when a sampler is created). */
async function withKernel<T>(kernel: "avx512" | "generic", body: () => Promise<T>): Promise<T> {
  if (kernel === "generic") process.env.H1_SAMPLER_GENERIC = "1";
  try {
    return await body();
  } finally {
    delete process.env.H1_SAMPLER_GENERIC;
  }
}

/** Candidates and scores of one call on `path`, on seeded observations and noise. */
async function sampleOn(dir: string, path: EngineOptions["path"], B: number, K: number, seed = 3, threads = 1) {
  const engine = await PolicyEngine.load(dir, { ...quiet, path, K, session: { threads } });
  const m = engine.manifest;
  const rng = new SeededNormal(seed);
  const obs = rng.fill(new Float32Array(B * m.observation.size));
  const noise = rng.fill(new Float32Array((m.diffusion!.steps + 1) * B * K * m.action.size));
  const r = await engine.sampleWithNoise(obs, B, noise, new Float64Array(B).fill(0.5));
  const out = { path: engine.path, candidates: Float32Array.from(r.candidates), scores: Float32Array.from(r.scores), finite: r.finite };
  await engine.close();
  return out;
}

test("the native sampler addon is built and picks a kernel for this CPU", () => {
  const a = nativeAvailability();
  assert.notEqual(a.isa, null, a.reason);
});

for (const kernel of KERNELS) {
  for (const name of POLICY_FIXTURES) {
    test(`${name}: the native path (${kernel} kernel) equals the fused graph, batched and with K not a multiple of 8`, async () => {
      for (const [B, K] of [[1, 1], [3, 7], [2, 13]]) {
        const native = await withKernel(kernel, () => sampleOn(fixturePath(name), "native", B, K));
        const fused = await sampleOn(fixturePath(name), "fused", B, K);
        assert.equal(native.path, "native");
        assert.ok(maxAbsDiff(native.candidates, fused.candidates) <= 1e-5, `B ${B} K ${K}: ${maxAbsDiff(native.candidates, fused.candidates)}`);
        assert.ok(maxAbsDiff(native.scores, fused.scores) <= 1e-5 * Math.max(1, ...fused.scores.map(Math.abs)));
      }
    });
  }
}

for (const model of ["h1-stand", "h1-walk"]) {
  test(`${model}: the shipped package's native weights reproduce its fused graph (both kernels)`, async () => {
    const dir = join(MODELS, model);
    const m = readPolicyPackage(dir).manifest;
    assert.ok(m.native_sampler, `${model} ships native_sampler weights`);
    const fused = await sampleOn(dir, "fused", 2, m.selection.K, 9);
    for (const kernel of KERNELS) {
      const native = await withKernel(kernel, () => sampleOn(dir, "native", 2, m.selection.K, 9));
      assert.ok(maxAbsDiff(native.candidates, fused.candidates) <= 1e-5, `${kernel}: ${maxAbsDiff(native.candidates, fused.candidates)}`);
      assert.ok(maxAbsDiff(native.scores, fused.scores) <= 1e-5 * Math.max(1, ...fused.scores.map(Math.abs)), `${kernel} scores`);
    }
  });
}

test("two threads give the same candidates and scores, bit for bit, as one", async () => {
  for (const [B, K] of [[1, 32], [1, 7], [3, 13], [2, 50]]) {
    const one = await sampleOn(fixturePath("qe-bandit"), "native", B, K, 5, 1);
    const two = await sampleOn(fixturePath("qe-bandit"), "native", B, K, 5, 2);
    assert.deepEqual(two.candidates, one.candidates, `B ${B} K ${K}`);
    assert.deepEqual(two.scores, one.scores, `B ${B} K ${K}`);
  }
  const walk = join(MODELS, "h1-walk");
  const oneThread = (await sampleOn(walk, "native", 2, 50, 8, 1)).candidates;
  assert.deepEqual((await sampleOn(walk, "native", 2, 50, 8, 2)).candidates, oneThread);
  // threads auto: each call shares or runs alone (the helper idle), whichever has been faster
  const pkg = readPolicyPackage(walk);
  const auto = NativeSampler.open(pkg, "auto");
  const rng = new SeededNormal(8);
  const obs = rng.fill(new Float32Array(2 * pkg.manifest.observation.size));
  const noise = rng.fill(new Float32Array((pkg.manifest.diffusion!.steps + 1) * 2 * 50 * pkg.manifest.action.size));
  const first = Float32Array.from((await auto.run(obs, 2, 50, noise)).candidates);
  for (let i = 0; i < 40; i++) assert.deepEqual((await auto.run(obs, 2, 50, noise)).candidates, first, `call ${i + 2}`);
  if (auto.threads === 2) assert.ok(Number.isFinite(auto.threadTimes!.alone) && Number.isFinite(auto.threadTimes!.shared), "both modes were timed");
  await auto.release();
});

test("the helper thread computes a share of the candidates; threads auto uses it where there are two CPUs", async (t) => {
  const dir = join(MODELS, "h1-walk");
  const auto = await PolicyEngine.load(dir, { ...quiet, path: "native" });
  assert.equal(auto.threads, availableParallelism() >= 2 ? 2 : 1);
  await auto.close();
  const one = await PolicyEngine.load(dir, { ...quiet, path: "native", session: { threads: 1 } });
  assert.equal(one.helperShare, null);
  await one.close();
  if (availableParallelism() < 2) return t.skip("one CPU: no helper thread");
  const two = await PolicyEngine.load(dir, { ...quiet, path: "native", K: 32, session: { threads: 2 } });
  const obs = new SeededNormal(4).fill(new Float32Array(two.manifest.observation.size));
  // On a busy machine the caller may do every chunk for a while: the helper's turn comes when a core is free.
  for (let i = 0, start = Date.now(); i < 50 || (two.helperShare === 0 && Date.now() - start < 20_000); i++) await two.sample(obs);
  const share = two.helperShare!;
  await two.close();
  assert.ok(share > 0 && share < 1, `the helper's share ${share}: both threads should have run chunks`);
});

test("auto picks the native path with the AVX-512 kernel, the fused graph otherwise", async () => {
  const dir = fixturePath("qvpo-bandit");
  const auto = await PolicyEngine.load(dir, quiet);
  assert.equal(auto.path, nativeAvailability().isa === "avx512" ? "native" : "fused");
  await auto.close();
  const portable = await withKernel("generic", () => PolicyEngine.load(dir, quiet));
  assert.equal(portable.path, "fused", "the portable kernel is slower than ONNX Runtime: not the default");
  await portable.close();
  const cpuOnly = await PolicyEngine.load(dir, { ...quiet, path: "stepwise" });
  assert.equal(cpuOnly.path, "stepwise", "an explicit path is kept");
  await cpuOnly.close();
});

test("a NaN in the observation gives a non-finite sample, which the caller must not use", async () => {
  const engine = await PolicyEngine.load(fixturePath("qvpo-bandit"), { ...quiet, path: "native" });
  const r = await engine.sample(Float32Array.from([Number.NaN, 0.2]));
  assert.equal(r.finite, false);
  await engine.close();
});

test("native weights that differ from the graphs are refused at load, with their hash fixed", async () => {
  const dir = copyFixture("qvpo-bandit");
  const file = join(dir, "weights.f32");
  const bytes = readFileSync(file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setFloat32(8, view.getFloat32(8, true) + 0.5, true); // one weight of the first layer
  writeFileSync(file, bytes);
  assert.throws(() => readPolicyPackage(dir), /weights\.f32: SHA-256 mismatch/);
  editManifest(dir, (m) => (m.native_sampler.sha256 = sha256File(file)));
  await assert.rejects(PolicyEngine.load(dir, { logger: silentLogger, path: "native" }), (err: Error) => {
    assert.ok(err instanceof PolicyPackageError);
    assert.match(err.message, /native and fused paths disagree by/);
    return true;
  });
});

test("a weights file or layout that does not fit the manifest is a clear error", () => {
  const dir = copyFixture("qvpo-bandit");
  const file = join(dir, "weights.f32");
  writeFileSync(file, readFileSync(file).subarray(0, 400));
  editManifest(dir, (m) => (m.native_sampler.sha256 = sha256File(file)));
  assert.throws(() => readPolicyPackage(dir), /weights\.f32: 400 bytes, \/native_sampler\/tensors declare \d+ float32 values/);
  editManifest(dir, (m) => (m.native_sampler.tensors[1].shape = [3, m.native_sampler.hidden]));
  assert.throws(() => readPolicyPackage(dir), /\/native_sampler\/tensors\/1 is first\.observation \[3, \d+\], expected first\.observation \[2, \d+\]/);
  editManifest(dir, (m) => {
    m.native_sampler.tensors[1].shape = [2, m.native_sampler.hidden];
    m.native_sampler.activation = "relu";
  });
  assert.throws(() => readPolicyPackage(dir), /\/native_sampler\/activation/);
});

test("the addon checks its arguments instead of reading past an array", () => {
  const addon = createRequire(import.meta.url)(fileURLToPath(NATIVE_ADDON_PATH));
  const dims = { A: 2, O: 3, H: 4, T: 2, hiddenLayers: 1, M: 2, Hc: 4, criticLayers: 1 };
  const denoiser = 2 * 4 + 3 * 4 + 2 * 4 + (16 + 4) + 4 * 2 + 2;
  const member = 3 * 4 + 2 * 4 + 4 + (16 + 4) + 4 + 1;
  const weights = new Float32Array(denoiser + 2 * member);
  const steps = () => new Float32Array(2);
  const create = (d: object, w: unknown, first = steps(), threads = 1) => addon.create(d, w, first, steps(), steps(), steps(), steps(), 1, threads);
  assert.throws(() => create(dims, weights.subarray(1)), /weights length does not match/);
  assert.throws(() => create(dims, Array.from(weights)), /weights must be a Float32Array/);
  assert.throws(() => create(dims, weights, new Float32Array(3)), /per-step constants must have T values/);
  assert.throws(() => create({ ...dims, M: 0 }, weights), /dims out of range/);
  assert.throws(() => create(dims, weights, steps(), 3), /threads must be 1 or 2/);
  const h = create(dims, weights, steps(), 2);
  const out = new Float32Array(2 * 5);
  const q = new Float32Array(2 * 5);
  const noise = new Float32Array(3 * 5 * 2);
  assert.throws(() => addon.run(h, new Float32Array(3), 1, 5, noise.subarray(1), out, q), /noise is shorter/);
  assert.throws(() => addon.run(h, new Float32Array(3), 1, 6, new Float32Array(3 * 6 * 2), out, q), /candidates is shorter/);
  assert.throws(() => addon.run(h, new Float32Array(3), 1, 5, noise, out, q.subarray(1)), /q is shorter/);
  assert.throws(() => addon.run(h, new Float32Array(2), 1, 5, noise, out, q), /obs is shorter/);
  assert.throws(() => addon.run({}, new Float32Array(3), 1, 5, noise, out, q), /not a sampler handle/);
  assert.throws(() => addon.run(h, new Float32Array(3), 1, 5, noise, out, q, 1), /alone must be a boolean/);
  out.fill(7);
  q.fill(7);
  addon.run(h, new Float32Array(3), 1, 5, noise, out, q); // zero weights and constants: zeros
  assert.deepEqual([...out, ...q], new Array(20).fill(0));
  addon.close(h);
  assert.throws(() => addon.run(h, new Float32Array(3), 1, 5, noise, out, q), /the sampler is closed/);
  addon.close(h); // twice is harmless
});

test("the kernel under AddressSanitizer and UBSan: random shapes, 1 to 4 shares of the rows, AVX-512 = portable", () => {
  const exe = join(mkdtempSync(join(tmpdir(), "kernel-check-")), "kernel_check");
  const flags = ["-O1", "-g", "-std=c11", "-D_ISOC11_SOURCE", "-D_POSIX_C_SOURCE=200809L", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"];
  const build = spawnSync(process.env.CC || "cc", [...flags, "-o", exe, join(NATIVE, "test/kernel_check.c"), join(NATIVE, "src/kernel.c"), "-lm"], { encoding: "utf8" });
  assert.equal(build.status, 0, build.stderr);
  const run = spawnSync(exe, { encoding: "utf8" });
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /^ok: 40 random shapes, largest difference /);
});
