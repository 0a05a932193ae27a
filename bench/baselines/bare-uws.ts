// The box's ceiling: a uWS server that only counts what arrives. WS /v1/ingest counts
// frames and bytes; POST /v1/events reads the whole body and answers 202. It never
// decodes, so whatever the simulator or autocannon reach here is what the sockets allow.
import uWS from 'uWebSockets.js';

let frames = 0;
let bytes = 0;
let requests = 0;
let connections = 0;

const app = uWS.App();
app.ws('/v1/ingest', {
  compression: uWS.DISABLED,
  maxPayloadLength: 16 * 1024 * 1024,
  idleTimeout: 0,
  maxBackpressure: 1024 * 1024,
  open: () => {
    connections++;
  },
  message: (_ws, message) => {
    frames++;
    bytes += message.byteLength;
  },
  close: () => {
    connections--;
  },
});
app.post('/v1/events', (res) => {
  let aborted = false;
  let len = 0;
  res.onAborted(() => {
    aborted = true;
  });
  res.onData((chunk, isLast) => {
    len += chunk.byteLength;
    if (!isLast || aborted) return;
    requests++;
    bytes += len;
    res.cork(() => {
      res.writeStatus('202 Accepted').writeHeader('content-type', 'application/json').end('{"accepted":100}');
    });
  });
});
app.get('/metrics', (res) => {
  res.end(
    `bare_frames_total ${frames}\nbare_bytes_total ${bytes}\nbare_http_requests_total ${requests}\n` +
      `bare_connections ${connections}\n`,
  );
});
app.listen('127.0.0.1', 0, (listenSocket) => {
  if (!listenSocket) {
    process.stderr.write('bare: listen failed\n');
    process.exit(1);
  }
  const port = uWS.us_socket_local_port(listenSocket);
  process.stdout.write(`bare listening on http://127.0.0.1:${port}\n`);
  const stop = (): void => {
    uWS.us_listen_socket_close(listenSocket);
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
});
