import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RuntimeInputError, RuntimeUnavailableError } from '../runtime.js';
import type { Tensor } from '../tensors.js';
import { ExternalRuntime } from './external-runtime.js';

/**
 * A small but honest OIP v2 server for one model, `doubler` (version 3): input `x` FP32 [-1, 2],
 * outputs `y` = 2x and `total` = the row sums. Validates what it is sent and answers errors as OIP
 * servers do. Some values provoke faults: a negative -> 400, 13 -> 500, 503 -> 503, 999 -> a slow
 * answer.
 */
class DoublerServer {
  ready = true;
  requests: string[] = [];
  connections = 0;
  lastBody: unknown = null;
  readonly token = 'Bearer s3cret';
  private server = http.createServer((req, res) => void this.handle(req, res));
  url = '';

  async start(): Promise<void> {
    this.server.on('connection', () => this.connections++);
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    this.requests.push(`${req.method} ${req.url}`);
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (req.headers.authorization !== this.token) return send(401, { error: 'unauthorized' });
    const m = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?$/.exec(req.url ?? '');
    if (!m || m[1] !== 'doubler' || (m[2] !== undefined && m[2] !== '3')) {
      return send(404, { error: `Model ${m?.[1] ?? '?'} not found` });
    }
    const route = m[3] ?? '';
    if (route === '' && req.method === 'GET') {
      return send(200, {
        name: 'doubler',
        versions: ['3'],
        platform: 'test_doubler',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }],
        outputs: [
          { name: 'y', datatype: 'FP32', shape: [-1, 2] },
          { name: 'total', datatype: 'FP32', shape: [-1] },
        ],
      });
    }
    if (route === '/ready' && req.method === 'GET') return send(this.ready ? 200 : 503, {});
    if (route !== '/infer' || req.method !== 'POST') return send(405, { error: 'method not allowed' });
    let body: {
      inputs?: { name: string; datatype: string; shape: number[]; data: unknown[] }[];
      outputs?: { name: string }[];
    };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
    } catch {
      return send(400, { error: 'malformed JSON' });
    }
    this.lastBody = body;
    const x = body.inputs?.find((i) => i.name === 'x');
    if (!x || x.datatype !== 'FP32' || x.shape.length !== 2 || x.shape[1] !== 2) {
      return send(400, { error: 'input "x" must be FP32 [n, 2]' });
    }
    const data = (x.data.flat(Infinity) as unknown[]).map(Number);
    if (data.length !== x.shape[0]! * 2) return send(400, { error: 'input "x": data does not match its shape' });
    if (data.some((v) => v < 0)) return send(400, { error: 'input "x" must not be negative' });
    if (data.includes(13)) return send(500, { error: 'unlucky number' });
    if (data.includes(503)) return send(503, { error: 'overloaded' });
    if (data.includes(999)) await sleep(1_000);
    const outputs = [
      { name: 'y', datatype: 'FP32', shape: [x.shape[0], 2], data: data.map((v) => 2 * v) },
      {
        name: 'total',
        datatype: 'FP32',
        shape: [x.shape[0]],
        data: Array.from({ length: x.shape[0]! }, (_, r) => data[2 * r]! + data[2 * r + 1]!),
      },
    ];
    const wanted = body.outputs?.map((o) => o.name);
    return send(200, {
      model_name: 'doubler',
      model_version: '3',
      outputs: wanted ? outputs.filter((o) => wanted.includes(o.name)) : outputs,
    });
  }
}

const x = (...values: number[]): Tensor => ({
  name: 'x',
  datatype: 'FP32',
  shape: [values.length / 2, 2],
  data: Float32Array.from(values),
});

describe('ExternalRuntime', () => {
  const server = new DoublerServer();
  before(() => server.start());
  after(() => server.stop());
  const open = (extra: Partial<Parameters<typeof ExternalRuntime.open>[0]> = {}) =>
    ExternalRuntime.open({ url: server.url, model: 'doubler', headers: { authorization: server.token }, ...extra });

  it("reads the model's metadata and infers over one kept-alive connection", async () => {
    const connectionsBefore = server.connections;
    const rt = await open();
    try {
      assert.equal(rt.kind, 'external');
      assert.equal(rt.ready(), true);
      assert.deepEqual(rt.metadata(), {
        platform: 'test_doubler',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }],
        outputs: [
          { name: 'y', datatype: 'FP32', shape: [-1, 2] },
          { name: 'total', datatype: 'FP32', shape: [-1] },
        ],
      });
      for (let i = 0; i < 50; i++) {
        const v = i / 4; // clear of the fault-provoking values
        const [y, total] = await rt.infer([x(v, 0.5, 1, 2)]);
        assert.equal(y!.name, 'y');
        assert.equal(y!.datatype, 'FP32');
        assert.deepEqual(y!.shape, [2, 2]);
        assert.deepEqual(Array.from(y!.data as Float32Array), [2 * v, 1, 2, 4]);
        assert.deepEqual(Array.from(total!.data as Float32Array), [v + 0.5, 3]);
      }
      assert.equal(server.connections - connectionsBefore, 1, 'one connection for open and 50 requests');
      assert.deepEqual(server.lastBody, {
        inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], data: [49 / 4, 0.5, 1, 2] }],
      });
      const only = await rt.infer([x(1, 2)], ['total']);
      assert.deepEqual(
        only.map((o) => o.name),
        ['total'],
      );
      assert.deepEqual((server.lastBody as Record<string, unknown>).outputs, [{ name: 'total' }]);
    } finally {
      await rt.close();
    }
  });

  it('addresses a version when given one', async () => {
    server.requests = [];
    const rt = await open({ version: '3' });
    try {
      await rt.infer([x(1, 1)]);
      assert.deepEqual(server.requests, [
        'GET /v2/models/doubler/versions/3',
        'GET /v2/models/doubler/versions/3/ready',
        'POST /v2/models/doubler/versions/3/infer',
      ]);
    } finally {
      await rt.close();
    }
    await assert.rejects(open({ version: '4' }), /versions\/4 answered 404: Model doubler not found/);
  });

  it('checks inputs against the metadata before sending them', async () => {
    const rt = await open();
    try {
      server.requests = [];
      await assert.rejects(rt.infer([{ ...x(1, 2), name: 'z' }]), (e: Error) => {
        return e instanceof RuntimeInputError && /unknown input "z"/.test(e.message);
      });
      await assert.rejects(rt.infer([{ ...x(1, 2, 3), shape: [1, 3] }]), (e: Error) => {
        return e instanceof RuntimeInputError && /input "x" has shape \[1, 3\]/.test(e.message);
      });
      await assert.rejects(rt.infer([x(1, 2)], ['nope']), (e: Error) => {
        return e instanceof RuntimeInputError && /unknown output "nope"/.test(e.message);
      });
      assert.deepEqual(server.requests, []);
    } finally {
      await rt.close();
    }
  });

  it("maps the server's errors: 400 -> input error with its text, 500 -> model error, 503 -> unavailable", async () => {
    const rt = await open();
    try {
      await assert.rejects(rt.infer([x(-1, 2)]), (e: Error) => {
        assert.ok(e instanceof RuntimeInputError, e.name);
        assert.equal(e.message, 'input "x" must not be negative');
        return true;
      });
      assert.equal(rt.ready(), true);
      await assert.rejects(rt.infer([x(13, 2)]), (e: Error) => {
        assert.ok(!(e instanceof RuntimeInputError) && !(e instanceof RuntimeUnavailableError), e.name);
        assert.match(e.message, /unlucky number/);
        return true;
      });
      await assert.rejects(rt.infer([x(503, 2)]), (e: Error) => {
        assert.ok(e instanceof RuntimeUnavailableError, e.name);
        assert.match(e.message, /503: overloaded/);
        return true;
      });
    } finally {
      await rt.close();
    }
  });

  it('times out a slow answer as unavailable, and the health poll brings it back', async () => {
    const rt = await open({ timeoutMs: 200, healthIntervalMs: 50 });
    try {
      await assert.rejects(rt.infer([x(999, 1)]), (e: Error) => {
        assert.ok(e instanceof RuntimeUnavailableError, e.name);
        assert.match(e.message, /did not answer within 200 ms/);
        return true;
      });
      assert.equal(rt.ready(), false);
      await waitFor(() => rt.ready());
      const [y] = await rt.infer([x(1, 2)]);
      assert.deepEqual(Array.from(y!.data as Float32Array), [2, 4]);
    } finally {
      await rt.close();
    }
  });

  it("follows the server's readiness while open, and is not ready once closed", async () => {
    const rt = await open({ healthIntervalMs: 30 });
    try {
      server.ready = false;
      await waitFor(() => !rt.ready());
      server.ready = true;
      await waitFor(() => rt.ready());
    } finally {
      server.ready = true;
      await rt.close();
    }
    assert.equal(rt.ready(), false);
    await assert.rejects(rt.infer([x(1, 2)]), RuntimeUnavailableError);
  });

  it('sends the configured headers', async () => {
    await assert.rejects(ExternalRuntime.open({ url: server.url, model: 'doubler' }), /answered 401: unauthorized/);
  });

  it('fails to open, saying why, when the server is unreachable, not OIP, or lacks the model', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await assert.rejects(ExternalRuntime.open({ url: `http://127.0.0.1:${port}`, model: 'm' }), (e: Error) => {
      assert.ok(e instanceof RuntimeUnavailableError, e.name);
      assert.match(e.message, /cannot open model m: .*cannot be reached: ECONNREFUSED/);
      return true;
    });

    const html = http.createServer((_req, res) => res.end('<html>hello</html>'));
    await new Promise<void>((resolve) => html.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(html.address() as AddressInfo).port}`;
      await assert.rejects(
        ExternalRuntime.open({ url, model: 'm' }),
        /\/v2\/models\/m is not an Open Inference Protocol server: its answer is not JSON/,
      );
    } finally {
      html.closeAllConnections();
      await new Promise<void>((resolve) => html.close(() => resolve()));
    }

    await assert.rejects(open({ model: 'other' }), /answered 404: Model other not found/);
    await assert.rejects(ExternalRuntime.open({ url: 'ftp://x', model: 'm' }), /url "ftp:\/\/x" must be http or https/);
    await assert.rejects(ExternalRuntime.open({ url: 'not a url', model: 'm' }), /url "not a url" is not a valid URL/);
  });

  it('turns unavailable when the server goes away mid-life', async () => {
    const other = new DoublerServer();
    await other.start();
    const rt = await ExternalRuntime.open({
      url: other.url,
      model: 'doubler',
      headers: { authorization: other.token },
    });
    try {
      await rt.infer([x(1, 2)]);
      await other.stop();
      await assert.rejects(rt.infer([x(1, 2)]), (e: Error) => {
        assert.ok(e instanceof RuntimeUnavailableError, `${e.name}: ${e.message}`);
        return true;
      });
      assert.equal(rt.ready(), false);
    } finally {
      await rt.close();
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}
