// A slow upstream for the memory/streaming test: every POST gets an OpenAI SSE stream of
// DRIP_CHUNKS chunks written DRIP_INTERVAL_MS apart (so a gateway that buffered the whole
// stream would show it as a late first byte). Stops by itself after DRIP_LIFETIME_S.
// GET /stats → {"started", "finished", "cut"}: streams begun, written to the end, and closed by
// the other side before the end (a gateway that passes a client's disconnect upstream).
//   DRIP_PORT=0 node bench/lib/drip-server.mjs   → prints {"port": N}
import http from "node:http";
import { openaiSse } from "./bodies.mjs";

const N = Number(process.env.DRIP_CHUNKS ?? 100);
const INTERVAL = Number(process.env.DRIP_INTERVAL_MS ?? 10);
const events = openaiSse(N).split(/(?<=\n\n)/);

const stats = { started: 0, finished: 0, cut: 0 };

const server = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/stats") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(stats));
    return;
  }
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    stats.started++;
    let i = 0;
    let ended = false;
    res.on("close", () => {
      if (!ended) stats.cut++;
    });
    const tick = () => {
      if (res.destroyed) return;
      res.write(events[i++]);
      if (i < events.length) setTimeout(tick, INTERVAL);
      else {
        ended = true;
        stats.finished++;
        res.end();
      }
    };
    tick();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.DRIP_PORT ?? 0), "127.0.0.1", () => {
  console.log(JSON.stringify({ port: server.address().port }));
});
setTimeout(() => process.exit(0), Number(process.env.DRIP_LIFETIME_S ?? 900) * 1000).unref();
