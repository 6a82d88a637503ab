// Unit tests of the webhook pages' pure helpers: paths, the URL and secret checks made before the
// round trip, the events chosen in the form, and how a delivery reads.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  chosenEvents,
  EVENT_TYPES,
  eventsLabel,
  missingPayloadReason,
  responseLabel,
  secretProblem,
  webhookPath,
  webhooksPath,
  webhookUrlProblem,
} from './webhooks.js';

test('paths name the project and the webhook, encoded', () => {
  assert.equal(webhooksPath('fraud-ml'), '/projects/fraud-ml/webhooks');
  assert.equal(webhookPath('fraud-ml', '01J/x'), '/projects/fraud-ml/webhooks/01J%2Fx');
});

test('a URL is checked for what the page can tell; the server checks the addresses', () => {
  assert.equal(webhookUrlProblem('https://hooks.example.com/hangar'), undefined);
  assert.equal(webhookUrlProblem('http://127.0.0.1:9000/x'), undefined, 'loopback is for the server to judge');
  assert.match(webhookUrlProblem('  ')!, /Enter the URL/);
  assert.match(webhookUrlProblem('hooks.example.com')!, /absolute URL/);
  assert.match(webhookUrlProblem('ftp://hooks.example.com/')!, /http and https/);
  assert.match(webhookUrlProblem('https://u:p@hooks.example.com/')!, /user name and password/);
  assert.match(webhookUrlProblem(`https://h.example/${'x'.repeat(2000)}`)!, /At most 2000/);
});

test('a secret of the user’s own has the server’s bounds', () => {
  assert.match(secretProblem('short')!, /At least 16/);
  assert.equal(secretProblem('s'.repeat(16)), undefined);
  assert.match(secretProblem('s'.repeat(257))!, /At most 256/);
});

test('the form sends "*" for all events, else the ticked types in the server’s order', () => {
  assert.deepEqual(chosenEvents(true, ['gate.failed']), ['*']);
  assert.deepEqual(chosenEvents(false, ['release.promoted', 'gate.failed']), ['gate.failed', 'release.promoted']);
  assert.deepEqual(chosenEvents(false, []), []);
  assert.equal(EVENT_TYPES[0], 'model_version.created');
  assert.equal(EVENT_TYPES.length, 8);
});

test('deliveries read in words', () => {
  assert.equal(eventsLabel(['*']), 'all events');
  assert.equal(eventsLabel(['gate.passed', 'gate.failed']), 'gate.passed, gate.failed');
  assert.equal(responseLabel({ responseStatus: 503 }), 'HTTP 503');
  assert.equal(responseLabel({ responseStatus: null }), null);
  const body = { id: 'e', type: 'gate.passed', createdAt: '2026-01-01T00:00:00.000Z', projectId: 'p', data: {} };
  assert.equal(missingPayloadReason({ eventType: 'gate.passed', payload: body }), null);
  assert.match(missingPayloadReason({ eventType: 'ping', payload: null })!, /ping's body is not kept/);
  assert.match(missingPayloadReason({ eventType: 'gate.passed', payload: null })!, /no longer in the event log/);
});
