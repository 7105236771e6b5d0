import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { authoringDoc, labReference, referenceEnd, referenceStart, withReference } from './reference.ts';
import { labSchema } from './schema.ts';

test('docs/authoring.md carries the reference generated from the schema', () => {
  const doc = readFileSync(authoringDoc, 'utf8');
  assert.ok(doc.includes(referenceStart) && doc.includes(referenceEnd));
  // out of date when this fails: node --import tsx server/labs/reference.ts --write
  assert.equal(withReference(doc), doc);
});

test('every field of every definition is in the reference', () => {
  const ref = labReference();
  const defs = (labSchema().definitions ?? {}) as Record<string, { properties?: Record<string, unknown> }>;
  for (const [name, def] of Object.entries(defs)) {
    assert.match(ref, new RegExp(`^### ${name}$`, 'm'), name);
    for (const field of Object.keys(def.properties ?? {})) assert.ok(ref.includes(`\`${field}\``), `${name}.${field}`);
  }
});
