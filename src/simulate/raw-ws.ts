// A minimal WebSocket client over net.Socket. The `ws` client masks and frames every
// message on send; the simulator instead writes pre-built frames (zero mask key) straight
// to the socket, which is what lets one process push far more than the engine takes.
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { wsFrame } from './frames.js';

export interface RawWsHandlers {
  /** A complete text (opcode 1) or binary (opcode 2) message from the server. */
  onMessage(data: Buffer, binary: boolean): void;
  onClose(code: number): void;
}

export interface RawWsConnectOptions {
  host: string;
  port: number;
  path: string;
  localAddress?: string;
  timeoutMs?: number;
  headers?: Record<string, string>;
}

const CRLF2 = Buffer.from('\r\n\r\n');

export class RawWsClient {
  readonly socket: net.Socket;
  closed = false;
  private pending: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private fragmentBinary = false;

  private constructor(socket: net.Socket, private readonly handlers: RawWsHandlers) {
    this.socket = socket;
  }

  static connect(opts: RawWsConnectOptions, handlers: RawWsHandlers): Promise<RawWsClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: opts.host, port: opts.port, localAddress: opts.localAddress });
      socket.setNoDelay(true);
      const client = new RawWsClient(socket, handlers);
      let head = Buffer.alloc(0);
      let upgraded = false;
      const timer = setTimeout(() => fail(new Error('upgrade timed out')), opts.timeoutMs ?? 10_000);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        if (!upgraded) reject(err);
      };
      socket.on('error', (err) => {
        if (!upgraded) fail(err);
        else client.markClosed(1006);
      });
      socket.on('close', () => {
        if (!upgraded) fail(new Error('closed before upgrade'));
        else client.markClosed(1006);
      });
      socket.on('connect', () => {
        const extra = Object.entries(opts.headers ?? {})
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('');
        socket.write(
          `GET ${opts.path} HTTP/1.1\r\nHost: ${opts.host}:${opts.port}\r\nUpgrade: websocket\r\n` +
            `Connection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n` +
            `Sec-WebSocket-Version: 13\r\n${extra}\r\n`,
        );
      });
      socket.on('data', (chunk: Buffer) => {
        if (upgraded) {
          client.onData(chunk);
          return;
        }
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf(CRLF2);
        if (end < 0) {
          if (head.length > 16384) fail(new Error('upgrade response too large'));
          return;
        }
        const status = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
        if (!/^HTTP\/1\.1 101/.test(status)) {
          fail(new Error(`upgrade refused: ${status}`));
          return;
        }
        upgraded = true;
        clearTimeout(timer);
        resolve(client);
        const rest = head.subarray(end + 4);
        if (rest.length > 0) client.onData(rest);
      });
    });
  }

  /** Writes pre-built frames; returns false when the socket's buffer is above its high-water mark. */
  write(frame: Buffer): boolean {
    return this.socket.write(frame);
  }

  get buffered(): number {
    return this.socket.writableLength;
  }

  close(code = 1000): void {
    if (this.closed) return;
    const payload = Buffer.allocUnsafe(2);
    payload.writeUInt16BE(code, 0);
    this.socket.end(wsFrame(payload, 8));
  }

  destroy(): void {
    this.socket.destroy();
    this.markClosed(1006);
  }

  private markClosed(code: number): void {
    if (this.closed) return;
    this.closed = true;
    this.handlers.onClose(code);
  }

  private onData(chunk: Buffer): void {
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    for (;;) {
      if (buf.length < 2) break;
      const b0 = buf[0];
      const b1 = buf[1];
      let len = b1 & 0x7f;
      let p = 2;
      if (len === 126) {
        if (buf.length < 4) break;
        len = buf.readUInt16BE(2);
        p = 4;
      } else if (len === 127) {
        if (buf.length < 10) break;
        len = buf.readUInt32BE(2) * 0x100000000 + buf.readUInt32BE(6);
        p = 10;
      }
      if (b1 & 0x80) p += 4; // servers must not mask; tolerate it by skipping the key
      if (buf.length < p + len) break;
      const payload = buf.subarray(p, p + len);
      this.onFrame(b0 & 0x80, b0 & 0x0f, payload);
      buf = buf.subarray(p + len);
    }
    this.pending = buf.length > 0 ? Buffer.from(buf) : Buffer.alloc(0);
  }

  private onFrame(fin: number, opcode: number, payload: Buffer): void {
    if (opcode === 8) {
      const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      if (!this.closed) this.socket.end(wsFrame(payload.subarray(0, 2), 8));
      this.markClosed(code);
      return;
    }
    if (opcode === 9) {
      this.socket.write(wsFrame(payload, 10));
      return;
    }
    if (opcode === 10) return;
    if (opcode === 1 || opcode === 2) {
      if (fin) {
        this.handlers.onMessage(Buffer.from(payload), opcode === 2);
        return;
      }
      this.fragmentBinary = opcode === 2;
      this.fragments = [Buffer.from(payload)];
      return;
    }
    if (opcode === 0) {
      this.fragments.push(Buffer.from(payload));
      if (fin) {
        const whole = Buffer.concat(this.fragments);
        this.fragments = [];
        this.handlers.onMessage(whole, this.fragmentBinary);
      }
    }
  }
}
