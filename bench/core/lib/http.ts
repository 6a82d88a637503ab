import type { Child } from './children.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `url` until it answers 200 and returns the milliseconds since `since` (performance.now()).
 * Connection refusals are expected while the server boots; the poll is bounded by `timeoutMs`.
 */
export async function waitFor200(
  url: string,
  child: Child,
  since: number,
  timeoutMs = 60_000,
  intervalMs = 10,
): Promise<number> {
  const deadline = since + timeoutMs;
  let exited = false;
  void child.exited.then(() => (exited = true));
  while (performance.now() < deadline) {
    if (exited) throw new Error(`${child.name} exited before ${url} answered 200; output:\n${child.output()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return performance.now() - since;
    } catch {
      // not listening yet
    }
    await sleep(intervalMs);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms; output:\n${child.output()}`);
}

/** Loads fetch's machinery (undici) before anything is timed, so the first sample does not pay for it. */
export async function warmFetch(): Promise<void> {
  await fetch('http://127.0.0.1:1/', { signal: AbortSignal.timeout(500) }).catch(() => {});
}

export { sleep };
