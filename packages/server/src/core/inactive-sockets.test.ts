import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { closeInactiveSockets } from './inactive-sockets.js';

const TIMEOUT_MS = 300;

/** Resolves with how long after `since` the server's end of the connection was closed. */
const closedAfter = (socket: Socket, since: number) =>
  new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - since)));

describe('closeInactiveSockets', () => {
  let server: Server;
  let port: number;
  let stop: () => void;

  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/big') {
        // More than the socket buffers hold, so the write stalls while the client does not read.
        res.end(Buffer.alloc(64 * 1024 * 1024));
        return;
      }
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    stop = closeInactiveSockets(server, TIMEOUT_MS);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    stop();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** A client connection, and the server's end of it (whose close is what the tests time). */
  const open = async () => {
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    return { socket, serverSide: await accepted };
  };

  test('closes a connection that stops sending half-way through its headers', async () => {
    const { socket, serverSide } = await open();
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
    const ms = await closedAfter(serverSide, Date.now());
    assert.ok(ms >= TIMEOUT_MS - 20 && ms < TIMEOUT_MS * 3, `closed after ${ms} ms`);
  });

  test('closes an idle keep-alive connection after its last answer', async () => {
    const { socket, serverSide } = await open();
    const answered = new Promise((resolve) => socket.once('data', resolve));
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await answered;
    const ms = await closedAfter(serverSide, Date.now());
    assert.ok(ms >= TIMEOUT_MS - 20 && ms < TIMEOUT_MS * 3, `closed after ${ms} ms`);
  });

  test('keeps a slow but moving upload open past the timeout', async () => {
    const { socket, serverSide } = await open();
    let closed = false;
    serverSide.once('close', () => (closed = true));
    socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n');
    const started = Date.now();
    // One byte every 100 ms: 1.2 s in all, four timeouts long.
    for (let i = 0; i < 12; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(closed, false, `closed while still sending, after ${Date.now() - started} ms`);
      socket.write('x');
    }
    const answer = await new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(String(d))));
    assert.match(answer, /^HTTP\/1\.1 200/);
    socket.destroy();
  });

  test('closes a connection whose client stops reading a long answer', async () => {
    const { socket, serverSide } = await open();
    socket.pause();
    socket.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
    const ms = await closedAfter(serverSide, Date.now());
    // The server writes until the buffers are full, then nothing moves for the timeout.
    assert.ok(ms >= TIMEOUT_MS - 20 && ms < 5_000, `closed after ${ms} ms`);
    socket.destroy();
  });
});
