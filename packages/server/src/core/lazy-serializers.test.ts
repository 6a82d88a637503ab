import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { lazySerializers } from './lazy-serializers.js';

test('response serializers compile on first use and still follow the schema', async () => {
  const serializers = lazySerializers();
  const app = Fastify({ schemaController: { compilersFactory: { buildSerializer: serializers.factory } } });
  const response = { 200: { type: 'object', properties: { n: { type: 'integer' }, s: { type: 'string' } } } };
  app.get('/a', { schema: { response } }, async () => ({ n: '42', s: 'x"y', secret: 'not in the schema' }));
  app.get('/b', { schema: { response } }, async () => ({ n: 1, s: 'b' }));
  await app.ready();
  try {
    const res = await app.inject({ url: '/a' });
    // Coerced and filtered as the schema says, escaped as JSON must be.
    assert.equal(res.body, '{"n":42,"s":"x\\"y"}');
    assert.equal(JSON.parse((await app.inject({ url: '/b' })).body).n, 1);
    // Fastify adds a HEAD route, with its own serializer, for each GET route.
    assert.equal(serializers.compileAll(), 4);
  } finally {
    await app.close();
  }
});

test('compileAll reports a schema fast-json-stringify cannot compile', async () => {
  const serializers = lazySerializers();
  const app = Fastify({ schemaController: { compilersFactory: { buildSerializer: serializers.factory } } });
  app.get('/bad', { schema: { response: { 200: { $ref: 'nowhere#/x' } } } }, async () => ({}));
  await app.ready();
  try {
    assert.throws(() => serializers.compileAll());
  } finally {
    await app.close();
  }
});
