// A second process that loads the API while the bench measures the control loop's jitter:
// N WebSocket clients subscribed to every channel at full rate, and M concurrent HTTP loops on
// GET /api/status. Usage: tsx src/bench/load-generator.ts URL WS_CLIENTS HTTP_LOOPS SECONDS
// Prints {ws_clients, ws_frames, http_requests, http_errors} as JSON when done.
import { request } from "node:http";
import WebSocket from "ws";

const [url, wsArg, httpArg, secondsArg] = process.argv.slice(2);
const wsClients = Number(wsArg);
const httpLoops = Number(httpArg);
const until = Date.now() + Number(secondsArg) * 1000;
let frames = 0;
let requests = 0;
let errors = 0;

const sockets = Array.from({ length: wsClients }, () => {
  const ws = new WebSocket(url.replace("http", "ws") + "/ws");
  ws.on("open", () => {
    for (const channel of ["robot_state", "commands", "policy", "safety", "logs"]) ws.send(JSON.stringify({ op: "subscribe", channel, every: 1 }));
  });
  ws.on("message", () => frames++);
  ws.on("error", () => errors++);
  return ws;
});

const agent = new (await import("node:http")).Agent({ keepAlive: true, maxSockets: httpLoops });
async function httpLoop(): Promise<void> {
  while (Date.now() < until) {
    await new Promise<void>((resolve) => {
      const req = request(url + "/api/status", { agent }, (res) => {
        res.resume();
        res.on("end", () => {
          if (res.statusCode === 200) requests++;
          else errors++;
          resolve();
        });
      });
      req.on("error", () => {
        errors++;
        resolve();
      });
      req.end();
    });
  }
}

await Promise.all(Array.from({ length: httpLoops }, httpLoop));
for (const ws of sockets) ws.terminate();
agent.destroy();
console.log(JSON.stringify({ ws_clients: wsClients, ws_frames: frames, http_requests: requests, http_errors: errors }));
