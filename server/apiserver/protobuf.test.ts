import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeProtobufObject, ProtobufDecodeError } from './protobuf.ts';

const data = (f: string) => readFileSync(new URL(`./testdata/${f}`, import.meta.url));

// Bodies kubectl 1.32 POSTed for `kubectl create ...`; the oracle is the JSON kubectl itself
// prints for the same command with --dry-run=client -o json (test/codecs/capture.ts).
for (const kind of ['namespace', 'deployment', 'configmap', 'service', 'secret', 'serviceaccount']) {
  test(`decodes kubectl create ${kind} into the JSON kubectl would send`, () => {
    const decoded = decodeProtobufObject(data(`create-${kind}.pb`));
    const expected = JSON.parse(data(`create-${kind}.json`).toString());
    assert.deepEqual(decoded, expected);
  });
}

test('keeps pointer zeros and drops omitempty zeros', () => {
  const d = decodeProtobufObject(data('create-deployment.pb'));
  assert.equal(d.spec.replicas, 2);
  assert.deepEqual(d.spec.template.spec.containers[0].ports, [{ containerPort: 80 }]);
});

const bad: Array<[string, Buffer, RegExp]> = [
  ['no magic', Buffer.from('{"kind":"Pod"}'), /k8s\\0 magic/],
  ['empty', Buffer.alloc(0), /k8s\\0 magic/],
  ['truncated envelope', Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00]), Buffer.from([0x0a, 0x50, 0x0a])]), /malformed/],
  // envelope with typeMeta {apiVersion: "batch/v1", kind: "Job"}
  ['unserved kind', Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x0f, 0x0a, 0x08]), Buffer.from('batch/v1'), Buffer.from([0x12, 0x03]), Buffer.from('Job')]), /no protobuf decoder for Job in batch\/v1/],
  ['no type meta', Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x12, 0x00]), /no typeMeta/],
];
for (const [name, body, message] of bad) {
  test(`rejects ${name} with ProtobufDecodeError`, () => {
    assert.throws(() => decodeProtobufObject(body), (err: unknown) => err instanceof ProtobufDecodeError && message.test((err as Error).message));
  });
}

test('rejects gzip content encoding', () => {
  const body = Buffer.from(data('create-namespace.pb'));
  // append contentEncoding (field 3) = "gzip" to the envelope
  const withEncoding = Buffer.concat([body, Buffer.from([0x1a, 0x04]), Buffer.from('gzip')]);
  assert.throws(() => decodeProtobufObject(withEncoding), /content encoding "gzip"/);
});
