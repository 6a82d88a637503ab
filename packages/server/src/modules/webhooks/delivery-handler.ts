import { Type } from '@sinclair/typebox';
import type { JobHandler } from '../../jobs/job-handler.js';
import { WEBHOOK_DELIVERY_JOB } from './limits.js';
import type { WebhooksService } from './service.js';

/**
 * The 'webhooks.deliver' job: one attempt per run. A failed attempt throws, so the worker retries
 * with its exponential backoff until the job's attempts (8) are spent. Enqueued only by the event
 * log (never through the jobs API: adminOnly).
 */
export function webhookDeliveryHandler(
  service: Pick<WebhooksService, 'deliver' | 'abandon'>,
): JobHandler<{ deliveryId: string }> {
  return {
    kind: WEBHOOK_DELIVERY_JOB,
    payloadSchema: Type.Object({ deliveryId: Type.String({ minLength: 1, maxLength: 64 }) }),
    adminOnly: true,
    async run(ctx) {
      const result = await service.deliver(ctx.payload.deliveryId, ctx.attempt, ctx.job.max_attempts, ctx.signal);
      return { result };
    },
    async onEndedWithoutAttempt(job, why) {
      await service.abandon((JSON.parse(job.payload) as { deliveryId: string }).deliveryId, why);
    },
  };
}
