import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseOrigin, originAllowed } from './origin.ts';
import { TokenBucket } from './rate-limit.ts';

const served = ['http://127.0.0.1:8080', 'http://localhost:8080'];

test('origins match exactly after normalising default ports and case', () => {
  assert.equal(normaliseOrigin('https://Lab.Example'), 'https://lab.example:443');
  assert.equal(normaliseOrigin('http://lab.example:80'), 'http://lab.example:80');
  assert.ok(originAllowed('https://lab.example', ['https://lab.example:443']));
  assert.ok(originAllowed('http://127.0.0.1:8080', served));
  assert.ok(originAllowed('http://LOCALHOST:8080', served));
});

test('missing, null, look-alike, port-mismatched and odd origins are refused', () => {
  for (const bad of [
    undefined, '', 'null', 'http://127.0.0.1:8081', 'http://127.0.0.1', 'https://127.0.0.1:8080',
    'http://127.0.0.1.evil.com:8080', 'http://evil.com/http://127.0.0.1:8080', 'http://127.0.0.1:8080@evil.com',
    'http://user@127.0.0.1:8080', 'file://', 'javascript:alert(1)', 'http://127.0.0.1:8080/path', 'http://localhost`:8080',
    'http://127.0.0.1:8080, http://evil.com',
  ]) {
    assert.equal(originAllowed(bad, served), false, `origin ${JSON.stringify(bad)} must be refused`);
  }
});

test('the token bucket allows a burst, refuses, then refills', () => {
  let now = 0;
  const bucket = new TokenBucket(3, 1, () => now);
  assert.ok(bucket.take('a') && bucket.take('a') && bucket.take('a'));
  assert.equal(bucket.take('a'), false);
  assert.ok(bucket.take('b'), 'keys are independent');
  assert.equal(bucket.retryAfter('a'), 1);
  now = 1000;
  assert.ok(bucket.take('a'));
  assert.equal(bucket.take('a'), false);
});
