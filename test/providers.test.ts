import assert from "node:assert/strict";
import { test } from "node:test";
import { PolicyEngine } from "../src/policy/engine.ts";
import { chooseProvider, createSession, DEFAULT_SESSION_SETTINGS } from "../src/policy/providers.ts";
import { MemoryLogger } from "../src/util/log.ts";
import { fixturePath } from "./helpers/fixtures.ts";

test("provider choice says why", () => {
  assert.deepEqual(chooseProvider("cpu", true), { provider: "cpu", reason: "CPU requested" });
  assert.equal(chooseProvider("cuda", true).provider, "cuda");
  assert.equal(chooseProvider("auto", true).provider, "cuda");
  const auto = chooseProvider("auto", false);
  assert.equal(auto.provider, "cpu");
  assert.match(auto.reason, /^auto: libonnxruntime_providers_cuda\.so not found/);
  const cuda = chooseProvider("cuda", false);
  assert.equal(cuda.provider, "cpu");
  assert.match(cuda.reason, /^CUDA requested but .*ONNXRUNTIME_NODE_INSTALL=cuda12/);
});

test("a CUDA session that cannot start falls back to the CPU, loudly", async () => {
  const logger = new MemoryLogger();
  const { session, provider } = await createSession(
    fixturePath("qvpo-bandit", "critic.onnx"),
    DEFAULT_SESSION_SETTINGS,
    { provider: "cuda", reason: "test" },
    logger,
  );
  // On a machine with a working CUDA provider this test has nothing to fall back from.
  if (provider === "cuda") return;
  assert.equal(provider, "cpu");
  assert.ok(session.inputNames.includes("observation"));
  assert.ok(logger.records.some((r) => r.level === "warn" && /falling back to CPU/.test(r.message)), JSON.stringify(logger.records));
});

test("the engine logs which provider runs and why", async () => {
  const logger = new MemoryLogger();
  const engine = await PolicyEngine.load(fixturePath("qvpo-bandit"), { logger, path: "fused", session: { provider: "auto" } });
  const line = logger.records.find((r) => /ONNX Runtime on/.test(r.message));
  assert.ok(line, "a provider line was logged");
  assert.match(line!.message, engine.provider === "cpu" ? /on CPU \(auto: / : /on CUDA/);
  await engine.close();
});
