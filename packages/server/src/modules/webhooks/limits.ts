/** The job that delivers one event to one webhook; payload {deliveryId}. */
export const WEBHOOK_DELIVERY_JOB = 'webhooks.deliver';

export const WEBHOOK_LIMITS = {
  /**
   * Attempts per delivery. The worker's backoff doubles from 1 s (capped at 5 min), so 8 attempts
   * span about two minutes of retries (1+2+4+...+64 s) before the delivery is marked failed.
   */
  maxAttempts: 8,
  /** One attempt: connect, send and read the answer. */
  timeoutMs: 10_000,
  /** What is kept of a response body in the delivery log (characters). */
  responseExcerpt: 256,
  /** Bytes of a response read before the connection is dropped. */
  responseReadBytes: 4096,
  urlLength: 2000,
  descriptionLength: 1000,
  secretMinLength: 16,
  secretMaxLength: 256,
  perProject: 50,
} as const;
