// The dashboard end to end: the real `npm start` entry (node, simulator, policy, Fastify API) as a child
// process, the page in a real headless Chromium (Debian's /usr/bin/chromium through playwright-core; no
// browser is ever downloaded). Checks that the plots update, that E-STOP works without a token, that the
// controls send the token and show the server's refusals, and writes test/artifacts/dashboard.png.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = fileURLToPath(new URL("artifacts/", import.meta.url));
const SCREENSHOT = `${ARTIFACTS}dashboard.png`;
const TOKEN = "dashboard-e2e-token-4f1c9a"; // handed to the node through H1RT_API_TOKEN
const MODES = ["passive", "damping", "standup", "hold", "policy", "estop"];

/** The caller's environment less a config file choice (the test runs the default simulation config). */
function withoutConfig(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { H1RT_CONFIG: _ignored, ...rest } = env;
  return rest;
}

/** Start `src/cli/start.ts` with the shipped stand policy (it keeps the robot up, so the policy runs the
 * whole time) on a free port; resolves with its base URL. */
function startNode(): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/start.ts", "--policy", "models/h1-stand", "--port", "0", "--duration", "90", "--set", "api.foxglove_port=0"], {
    cwd: ROOT,
    env: { ...withoutConfig(process.env), H1RT_API_TOKEN: TOKEN },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const output = () => out.slice(-4000);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the node printed no dashboard URL in 30 s:\n${output()}`)), 30_000);
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = /dashboard (http:\/\/\S+?)\/\s/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1], output });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the node exited (${code}) before serving:\n${output()}`));
    });
  });
}

async function stopNode(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM"); // the node stops its scheduler and closes the API
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Expressions evaluated in the page are strings: tsx may wrap functions with helpers the page lacks.
const CANVASES = "['plot-joint','plot-latency','plot-scores'].map(id => { const c = document.getElementById(id); return { frames: Number(c.dataset.frames || 0), image: c.toDataURL() }; })";
type CanvasSnap = { frames: number; image: string }[];

async function message(page: Page, pattern: RegExp): Promise<string> {
  await page.waitForFunction(`${pattern}.test(document.getElementById('control-msg').textContent)`, null, { timeout: 5000 });
  return (await page.textContent("#control-msg"))!;
}

test(
  "dashboard: live plots, E-STOP without a token, token-guarded controls, screenshot",
  { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium); the dashboard test needs a real browser`, timeout: 90_000 },
  async () => {
    const node = await startNode();
    let browser: Browser | null = null;
    try {
      const status = async () => (await fetch(`${node.url}/api/status`)).json() as Promise<{ mode: string; policy: { K: number } }>;
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      });
      const page = await browser.newPage({ viewport: { width: 1400, height: 980 } });
      const pageErrors: string[] = [];
      page.on("pageerror", (err) => pageErrors.push(err.message));
      // The 401 and 409 the test provokes are logged by Chromium as failed loads: those are expected.
      page.on("console", (m) => m.type() === "error" && !/status of (401|409)\b/.test(m.text()) && pageErrors.push(m.text()));
      await page.goto(`${node.url}/`);

      // Live: the joint list came from the hello message, the mode label shows a real mode, status polls.
      await page.waitForFunction("Number(document.getElementById('plot-joint').dataset.frames || 0) > 5", null, { timeout: 10_000 });
      assert.equal(await page.inputValue("#joint").then((v) => page.textContent(`#joint option[value="${v}"]`)), "left_knee");
      assert.ok(MODES.includes((await page.textContent("#mode"))!), `mode label: ${await page.textContent("#mode")}`);
      await page.waitForFunction("/^\\d+ at 50 Hz$/.test(document.getElementById('st-ticks').textContent)", null, { timeout: 5000 });
      assert.match((await page.textContent("#st-policy"))!, /h1-stand/);

      // The plots update: more frames and a different picture a second later, on every canvas.
      const before = (await page.evaluate(CANVASES)) as CanvasSnap;
      await page.waitForTimeout(1200);
      const after = (await page.evaluate(CANVASES)) as CanvasSnap;
      for (const [i, name] of ["joint", "latency", "scores"].entries()) {
        assert.ok(after[i].frames > before[i].frames + 10, `${name} plot: ${before[i].frames} -> ${after[i].frames} frames`);
        assert.notEqual(after[i].image, before[i].image, `${name} plot did not redraw`);
      }

      // A mode request without the token: the server's 401 is shown.
      await page.fill("#token", "");
      await page.click("#mode-damping");
      assert.match(await message(page, /401/), /needs the API token/);

      // E-STOP needs no token: the node is in e-stop, and the page says so.
      await page.click("#estop");
      await until("status estop", async () => (await status()).mode === "estop", 3000);
      await page.waitForFunction("document.getElementById('mode').textContent === 'estop'", null, { timeout: 3000 });
      await page.waitForSelector('#events li[data-to="estop"]', { timeout: 3000 });

      // With the token: a refused request shows the server's 409; reset and parameters are granted.
      await page.fill("#token", TOKEN);
      await page.click("#mode-damping");
      assert.match(await message(page, /409/), /e-stop is latched/);
      await page.click("#estop-reset");
      assert.match(await message(page, /reset e-stop: granted/), /mode passive/);
      await page.fill("#param-K", "4");
      await page.click("#params-apply");
      assert.match(await message(page, /parameters: granted/), /K 4/);
      assert.equal((await status()).policy.K, 4);
      assert.equal(await page.evaluate("sessionStorage.getItem('h1rt-api-token')"), TOKEN);
      assert.ok(!page.url().includes(TOKEN), "the token must never be in the URL");

      // End in e-stop, let the plots run on a moment, and keep the picture.
      await page.click("#estop");
      await until("status estop", async () => (await status()).mode === "estop", 3000);
      await page.waitForTimeout(1500);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      assert.ok(existsSync(SCREENSHOT));
      assert.deepEqual(pageErrors, [], "the page logged errors");
    } catch (err) {
      (err as Error).message += `\n--- node output ---\n${node.output()}`;
      throw err;
    } finally {
      await browser?.close();
      await stopNode(node.child);
    }
  },
);
