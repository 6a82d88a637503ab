import Fastify from 'fastify';
import { keepNextTickShapeAlive } from '../../packages/server/src/core/next-tick-shape.js';

/*
 * The ceiling for bench/serving: Fastify with nothing of Hangar (no hooks, auth, schemas, logging,
 * model). One POST route at Hangar's inference path parses the JSON body as Fastify does by default
 * and answers a fixed object, which Fastify serializes on every request. The object is the answer
 * Hangar gave for the benchmark's request (BARE_RESPONSE), so both send the same bytes back.
 * Runs as its own process and prints its URL once listening.
 */

// As Hangar's server does at start (see next-tick-shape.ts): the ceiling must not hit Node 20's
// nextTick slow path that Hangar is protected from.
keepNextTickShapeAlive();

const response = JSON.parse(process.env.BARE_RESPONSE ?? '{"outputs":[]}') as unknown;

const app = Fastify({ logger: false });
app.post('/v2/models/:model/infer', async () => response);

const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`bare infer listening at ${address}/\n`);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
