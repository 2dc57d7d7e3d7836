// The safety and telemetry API (Fastify): status, e-stop, modes, runtime parameters, policies, recording,
// Prometheus metrics, OpenAPI (/openapi.json, /docs), WebSocket telemetry (/ws) and the dashboard (/).
// Every route declares its input and output schema. Mutating routes need the bearer token; e-stop never
// does, is never rate-limited, and only ever makes the robot safer. Client errors are 4xx with a message.
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import rateLimit from "@fastify/rate-limit";
import fastifyStatic from "@fastify/static";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Config } from "../config/config.ts";
import { PolicyPackageError } from "../policy/manifest.ts";
import { readPolicyPackage } from "../policy/package.ts";
import { packageSummary } from "../policy/summary.ts";
import type { Mode } from "../safety/supervisor.ts";
import type { TelemetryRing } from "../telemetry/ring.ts";
import { TokenCheck } from "./auth.ts";
import { ControlError, type NodeControl, type ParamsPatch } from "./control.ts";
import type { LogHub } from "./logs.ts";
import { createMetrics } from "./metrics.ts";
import { TelemetrySocket } from "./telemetry-ws.ts";
import { TickStats } from "./tick-stats.ts";

export const PUBLIC_DIR = fileURLToPath(new URL("../../public/", import.meta.url));

export interface ApiOptions {
  config: Config;
  /** The node, through messages or directly (src/api/control.ts). */
  control: NodeControl;
  /** The node's tick records (or this thread's mirror of them) and its log. */
  ring: TelemetryRing;
  logs: LogHub;
  /** The token mutating routes require. */
  token: string;
}

class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

const error = { type: "object", properties: { error: { type: "string" } }, required: ["error"] } as const;
const modeName = { type: "string", enum: ["passive", "damping", "standup", "hold", "policy"] } as const;
const reason = { type: "string", maxLength: 200 } as const;
const policyName = { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$" } as const;
const summarySchema = { type: "object", additionalProperties: true } as const;

const paramsSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    K: { type: "integer", minimum: 1, maximum: 1024 },
    soft_start_s: { type: "number", minimum: 0, maximum: 30 },
    standup_s: { type: "number", minimum: 0.1, maximum: 30 },
    soft_limit_factor: { type: "number", exclusiveMinimum: 0, maximum: 1 },
    velocity_limit_factor: { type: "number", exclusiveMinimum: 0, maximum: 1 },
    max_tilt_rad: { type: "number", exclusiveMinimum: 0, maximum: 3.1416 },
    max_state_age_ms: { type: "number", minimum: 1, maximum: 1000 },
    velocity_command: { type: "array", items: { type: "number", minimum: -10, maximum: 10 }, minItems: 3, maxItems: 3 },
  },
} as const;

export class ApiServer {
  readonly app: FastifyInstance;
  telemetry: TelemetrySocket | null = null;
  readonly stats: TickStats;
  private readonly check: TokenCheck;

  constructor(private readonly o: ApiOptions) {
    this.check = new TokenCheck(o.token);
    this.stats = new TickStats(o.ring);
    this.app = Fastify({ bodyLimit: o.config.api.body_limit_bytes, logger: false, ajv: { customOptions: { removeAdditional: false, coerceTypes: false } } });
  }

  /** Register everything and listen; resolves with the base URL. */
  async listen(): Promise<string> {
    const { app, o } = this;
    await app.register(swagger, {
      openapi: {
        info: { title: "H1 diffusion-policy control node", version: "1", description: "Safety controls and telemetry of the control node. Mutating routes take `Authorization: Bearer <token>`; e-stop never needs it." },
        components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      },
    });
    await app.register(swaggerUi, { routePrefix: "/docs" });
    await app.register(rateLimit, {
      max: o.config.api.rate_limit_per_minute,
      timeWindow: 60_000,
      allowList: (req) => req.url === "/api/estop", // the e-stop must always get through
    });
    app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, _req, reply) => {
      const status = err.validation ? 400 : err instanceof ControlError ? err.status : err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
      if (status >= 500) o.logs.log("error", `API: ${err.message}`);
      reply.code(status).send({ error: status >= 500 ? "internal error" : err.message });
    });
    app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no route ${req.method} ${req.url}` }));
    this.routes();
    const metrics = createMetrics(o.ring);
    app.get("/metrics", { schema: { hide: true } }, async (_req, reply) => {
      reply.type(metrics.contentType);
      return metrics.metrics();
    });
    await app.register(fastifyStatic, { root: PUBLIC_DIR, prefix: "/", index: ["index.html"] });
    app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
    await app.listen({ host: o.config.api.host, port: o.config.api.port });
    this.telemetry = new TelemetrySocket(app.server, o.ring, o.logs, o.config.api.max_ws_clients);
    const address = app.server.address();
    const port = typeof address === "object" && address ? address.port : o.config.api.port;
    return `http://${o.config.api.host}:${port}`;
  }

  async close(): Promise<void> {
    await this.telemetry?.close();
    await this.app.close();
  }

  private authorize = async (req: FastifyRequest, reply: FastifyReply) => {
    if (!this.check.allows(req.headers.authorization)) {
      reply.code(401).send({ error: "this route needs the API token: Authorization: Bearer <token>" });
    }
  };

  private routes(): void {
    const { app, o } = this;
    const control = o.control;
    const secured = { security: [{ bearer: [] }] };
    const refusal = (why: string | null) => {
      if (why) throw new HttpError(409, why);
    };

    app.get("/api/health", { schema: { response: { 200: { type: "object", properties: { ok: { type: "boolean" } } } } } }, async () => ({ ok: true }));

    app.get("/api/status", { schema: { response: { 200: { type: "object", additionalProperties: true } } } }, async () => {
      const last = o.ring.latest();
      const s = await control.status();
      return {
        ...s,
        link: { ...s.link, state_age_ms: last ? last.stateAgeMs : null, robot_tick: last ? last.robotTick : null },
        ticks: { count: this.stats.ticks, rate_hz: o.config.control.rate_hz, deadline_misses: this.stats.deadlineMisses, overruns: this.stats.overruns, non_finite: this.stats.nonFinite, latency_ms: this.stats.latency() },
        recording: await control.recording("status"),
        telemetry_clients: this.telemetry?.clientCount ?? 0,
      };
    });

    app.post(
      "/api/estop",
      {
        // The e-stop engages as the request arrives, before its body is read or checked: a malformed or
        // oversized body still stops the robot (and then gets its 4xx).
        onRequest: async (req) => void (await control.estop(`e-stop from the API (${req.ip})`)),
        schema: {
          description: "Latched e-stop (damping). Needs no token, is never rate-limited, engages even when the body is malformed.",
          body: { type: ["object", "null"], additionalProperties: false, properties: { reason } },
          response: { 200: { type: "object", properties: { mode: { type: "string" } } } },
        },
      },
      async (req) => {
        const body = (req.body ?? {}) as { reason?: string };
        if (body.reason) o.logs.log("warn", `e-stop reason: ${body.reason}`);
        return { mode: (await control.status()).mode };
      },
    );

    app.post(
      "/api/estop/reset",
      { preHandler: this.authorize, schema: { ...secured, description: "Leave e-stop, to passive.", response: { 200: { type: "object", properties: { mode: { type: "string" } } }, 401: error, 409: error } } },
      async () => {
        refusal(await control.reset("reset from the API"));
        return { mode: (await control.status()).mode };
      },
    );

    app.post(
      "/api/mode",
      {
        preHandler: this.authorize,
        schema: {
          ...secured,
          description: "Ask for a mode; the supervisor's transition table decides.",
          body: { type: "object", additionalProperties: false, required: ["mode"], properties: { mode: modeName, reason } },
          response: { 200: { type: "object", properties: { mode: { type: "string" }, reason: { type: "string" } } }, 401: error, 409: error },
        },
      },
      async (req) => {
        const body = req.body as { mode: Mode; reason?: string };
        refusal(await control.request(body.mode, `API: ${body.reason ?? "operator request"}`));
        const s = await control.status();
        return { mode: s.mode, reason: s.reason };
      },
    );

    app.get("/api/params", { schema: { response: { 200: { type: "object", additionalProperties: true } } } }, async () => (await control.status()).params);

    app.patch(
      "/api/params",
      { preHandler: this.authorize, schema: { ...secured, description: "Change runtime parameters (within the schema's bounds).", body: { ...paramsSchema, minProperties: 1 }, response: { 200: { type: "object", additionalProperties: true }, 401: error, 409: error } } },
      async (req) => control.setParams(req.body as ParamsPatch),
    );

    app.get("/api/policies", { schema: { response: { 200: { type: "object", additionalProperties: true } } } }, async () => {
      const dir = resolve(o.config.api.models_dir);
      const names = existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort() : [];
      return {
        dir,
        loaded: (await control.status()).policy?.name ?? null,
        policies: names.map((name) => {
          try {
            const s = packageSummary(readPolicyPackage(join(dir, name)));
            return { name, ok: true, algorithm: s.algorithm, robot: s.robot, task: s.task };
          } catch (err) {
            return { name, ok: false, error: (err as Error).message };
          }
        }),
      };
    });

    app.get(
      "/api/policies/:name",
      { schema: { params: { type: "object", required: ["name"], properties: { name: policyName } }, response: { 200: summarySchema, 404: error, 422: error } } },
      async (req) => packageSummary(this.readPackage((req.params as { name: string }).name)),
    );

    app.post(
      "/api/policies/load",
      {
        preHandler: this.authorize,
        schema: {
          ...secured,
          description: "Load a policy from the models directory (only in passive or hold); it is validated and probed before it replaces the running one.",
          body: { type: "object", additionalProperties: false, required: ["name"], properties: { name: policyName } },
          response: { 200: summarySchema, 401: error, 404: error, 409: error, 422: error },
        },
      },
      async (req) => {
        const pkg = this.readPackage((req.body as { name: string }).name);
        await control.loadPolicy(pkg.dir);
        return packageSummary(pkg);
      },
    );

    for (const action of ["start", "stop"] as const) {
      app.post(
        `/api/recording/${action}`,
        { preHandler: this.authorize, schema: { ...secured, description: `${action === "start" ? "Start" : "Stop"} recording every tick to MCAP.`, response: { 200: { type: "object", additionalProperties: true }, 401: error, 409: error } } },
        async () => control.recording(action),
      );
    }
  }

  private readPackage(name: string) {
    const dir = join(resolve(this.o.config.api.models_dir), name);
    if (!existsSync(dir)) throw new HttpError(404, `no policy "${name}" in ${this.o.config.api.models_dir}`);
    try {
      return readPolicyPackage(dir);
    } catch (err) {
      throw new HttpError(err instanceof PolicyPackageError ? 422 : 500, (err as Error).message);
    }
  }


}
