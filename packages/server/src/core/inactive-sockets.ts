import type { Server } from 'node:net';
import type { Socket } from 'node:net';

/**
 * Closes connections that have moved no byte either way for `timeoutMs`: a client that stops
 * sending half-way through a request, stops reading a response, or holds an idle connection open.
 * This is what `socket.setTimeout` (Fastify's `connectionTimeout`) does, but that option re-arms a
 * timer on every read and every write of every socket, which costs about a microsecond of a
 * no-op request's ~16. Here one sweep, a few times per timeout, compares each open socket's byte
 * counters with the last sweep's; a socket is closed between `timeoutMs` and `timeoutMs` plus one
 * sweep interval after its last byte.
 *
 * Node's own `requestTimeout` still bounds a request that trickles in slowly; this bounds silence.
 * Returns a function that stops the sweep (sockets still open are left to the server's close).
 */
export function closeInactiveSockets(server: Server, timeoutMs: number): () => void {
  const sockets = new Map<Socket, { bytes: number; since: number }>();
  const onConnection = (socket: Socket) => {
    sockets.set(socket, { bytes: 0, since: Date.now() });
    socket.once('close', () => sockets.delete(socket));
  };
  server.on('connection', onConnection);
  const intervalMs = Math.max(10, Math.min(1_000, Math.floor(timeoutMs / 4)));
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [socket, seen] of sockets) {
      const bytes = socket.bytesRead + socket.bytesWritten;
      if (bytes !== seen.bytes) {
        seen.bytes = bytes;
        seen.since = now;
      } else if (now - seen.since >= timeoutMs) {
        sockets.delete(socket);
        socket.destroy();
      }
    }
  }, intervalMs);
  sweep.unref();
  return () => {
    clearInterval(sweep);
    server.off('connection', onConnection);
  };
}
