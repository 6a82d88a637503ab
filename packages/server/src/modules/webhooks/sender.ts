import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { VERSION } from '../../version.js';
import { WEBHOOK_LIMITS } from './limits.js';
import type { CheckedTarget } from './url-guard.js';

/** The signature header's value: `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`. */
export function signature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export interface SendInput {
  target: CheckedTarget;
  secret: string;
  /** The event type (X-Hangar-Event) and the delivery id (X-Hangar-Delivery). */
  event: string;
  deliveryId: string;
  body: string;
  /** Unix seconds (X-Hangar-Timestamp); part of what is signed, so receivers can refuse replays. */
  timestamp: number;
  signal?: AbortSignal;
}

export interface SendResult {
  ok: boolean;
  status: number | null;
  error: string | null;
  durationMs: number;
}

/**
 * POSTs one signed webhook body to a checked target, connecting to the checked address (the lookup
 * is pinned to it), with a 10 s limit on the whole attempt; redirects are not followed (a 3xx is a
 * failed attempt) and at most a few KiB of the answer are read, of which a short excerpt is kept.
 */
export function sendWebhook(input: SendInput): Promise<SendResult> {
  const { target } = input;
  const started = performance.now();
  const timestamp = String(input.timestamp);
  const pinned: LookupFunction = (_host, options, callback) => {
    if ((options as { all?: boolean }).all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
  const signal = input.signal
    ? AbortSignal.any([input.signal, AbortSignal.timeout(WEBHOOK_LIMITS.timeoutMs)])
    : AbortSignal.timeout(WEBHOOK_LIMITS.timeoutMs);
  const client = target.url.protocol === 'https:' ? https : http;
  return new Promise<SendResult>((resolve) => {
    const done = (status: number | null, error: string | null) =>
      resolve({
        ok: error === null && status !== null && status >= 200 && status < 300,
        status,
        error,
        durationMs: Math.round(performance.now() - started),
      });
    const req = client.request(
      {
        method: 'POST',
        protocol: target.url.protocol,
        hostname: target.host,
        port: target.url.port || undefined,
        path: `${target.url.pathname}${target.url.search}`,
        lookup: pinned,
        // SNI and certificate checks use the name, not the address.
        servername: target.host,
        agent: false,
        signal,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(input.body),
          'user-agent': `Hangar-Webhooks/${VERSION}`,
          'x-hangar-event': input.event,
          'x-hangar-delivery': input.deliveryId,
          'x-hangar-timestamp': timestamp,
          'x-hangar-signature': signature(input.secret, timestamp, input.body),
        },
      },
      (res) => {
        const status = res.statusCode ?? null;
        let text = '';
        let read = 0;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          read += chunk.length;
          if (text.length < WEBHOOK_LIMITS.responseExcerpt) text += chunk;
          // Enough to judge the answer: stop reading a large or endless body.
          if (read > WEBHOOK_LIMITS.responseReadBytes) res.destroy();
        });
        const finish = () => {
          if (status !== null && status >= 200 && status < 300) return done(status, null);
          const excerpt = text.slice(0, WEBHOOK_LIMITS.responseExcerpt).replace(/\s+/g, ' ').trim();
          const redirect = status !== null && status >= 300 && status < 400 ? ' (redirects are not followed)' : '';
          done(status, `HTTP ${status}${redirect}${excerpt ? `: ${excerpt}` : ''}`);
        };
        res.on('end', finish);
        res.on('close', finish);
        res.on('error', finish);
      },
    );
    req.on('error', (err: Error & { code?: string }) => {
      const timedOut = signal.aborted && (signal.reason as Error | undefined)?.name === 'TimeoutError';
      done(null, timedOut ? `timed out after ${WEBHOOK_LIMITS.timeoutMs} ms` : (err.code ?? err.message));
    });
    req.end(input.body);
  });
}
