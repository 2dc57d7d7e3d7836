// Execution-provider choice: CPU by default; CUDA when asked for (or "auto") and its libraries are present.
// Every decision is logged with its reason; a CUDA session that fails to start falls back to CPU loudly.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as ort from "onnxruntime-node";
import type { Logger } from "../util/log.ts";

export type ProviderRequest = "cpu" | "cuda" | "auto";
export type GraphOptimization = "disabled" | "basic" | "extended" | "all";

export interface SessionSettings {
  provider: ProviderRequest;
  /**
   * Threads per policy call. A number: ONNX Runtime's intra-op threads on the CPU (0 lets it choose), and
   * the native sampler's (2 or more: two). "auto": one for ONNX Runtime (its workers spin between nodes and
   * would take the other core from the simulator and the robot link), two for the native sampler where the
   * machine has two CPUs (its helper sleeps between calls, and a call whose helper is late runs alone).
   */
  threads: number | "auto";
  graphOptimization: GraphOptimization;
  cudaDeviceId?: number;
}

export const DEFAULT_SESSION_SETTINGS: SessionSettings = { provider: "cpu", threads: "auto", graphOptimization: "all" };

/** ONNX Runtime's intra-op threads for a threads setting. */
export function intraOpThreads(threads: SessionSettings["threads"]): number {
  return threads === "auto" ? 1 : threads;
}

const CUDA_LIBRARY = "libonnxruntime_providers_cuda.so";

/** Where onnxruntime-node keeps its native libraries for this platform. */
export function onnxruntimeBinDir(): string {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve("onnxruntime-node/package.json"));
  return join(root, "bin", `napi-v6`, process.platform, process.arch);
}

/** Whether the CUDA provider's library was installed next to onnxruntime-node (see docs/gpu.md). */
export function cudaLibraryPresent(binDir = onnxruntimeBinDir()): boolean {
  return existsSync(join(binDir, CUDA_LIBRARY));
}

export interface ProviderChoice {
  provider: "cpu" | "cuda";
  reason: string;
}

export function chooseProvider(request: ProviderRequest, cudaPresent = cudaLibraryPresent()): ProviderChoice {
  if (request === "cpu") return { provider: "cpu", reason: "CPU requested" };
  if (cudaPresent) return { provider: "cuda", reason: `${request === "auto" ? "auto: " : ""}CUDA provider library found` };
  const reason = `${CUDA_LIBRARY} not found in ${onnxruntimeBinDir()}: install it with ONNXRUNTIME_NODE_INSTALL=cuda12 (docs/gpu.md)`;
  return { provider: "cpu", reason: request === "auto" ? `auto: ${reason}` : `CUDA requested but ${reason}` };
}

/** The session options the engine uses: sequential, one inter-op thread, quiet logging. */
export function sessionOptions(settings: SessionSettings, provider: "cpu" | "cuda"): ort.InferenceSession.SessionOptions {
  const providers: ort.InferenceSession.ExecutionProviderConfig[] =
    provider === "cuda" ? [{ name: "cuda", deviceId: settings.cudaDeviceId ?? 0 }, "cpu"] : ["cpu"];
  return {
    executionProviders: providers,
    intraOpNumThreads: intraOpThreads(settings.threads),
    interOpNumThreads: 1,
    graphOptimizationLevel: settings.graphOptimization,
    executionMode: "sequential",
    logSeverityLevel: 3,
  };
}

/** Create a session on the chosen provider; on a CUDA failure, log it and use the CPU. */
export async function createSession(
  path: string,
  settings: SessionSettings,
  choice: ProviderChoice,
  logger: Logger,
): Promise<{ session: ort.InferenceSession; provider: "cpu" | "cuda" }> {
  if (choice.provider === "cuda") {
    try {
      return { session: await ort.InferenceSession.create(path, sessionOptions(settings, "cuda")), provider: "cuda" };
    } catch (err) {
      logger.log("warn", `CUDA execution provider failed to start for ${path}; falling back to CPU`, {
        error: String((err as Error).message ?? err),
      });
    }
  }
  return { session: await ort.InferenceSession.create(path, sessionOptions(settings, "cpu")), provider: "cpu" };
}
