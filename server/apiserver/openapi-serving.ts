// Serving the OpenAPI v3 documents: serialized once per process (they are large and the same for
// every cluster), with a content hash for the `?hash=` URLs kubectl caches as immutable.
import { createHash } from 'node:crypto';
import type { PreparedDocument } from './discovery.ts';
import { openapiV3Document, openapiV3Paths } from './openapi.ts';

export interface HashedDocument extends PreparedDocument {
  hash: string;
}

const documents = new Map<string, HashedDocument | null>();

/** The document for "api/v1" | "apis/<group>/<version>", or undefined when not served. */
export function openapiDocument(groupVersionPath: string): HashedDocument | undefined {
  let doc = documents.get(groupVersionPath);
  if (doc === undefined) {
    const value = openapiV3Document(groupVersionPath);
    if (value === undefined) doc = null;
    else {
      const body = JSON.stringify(value);
      const hash = createHash('sha512').update(body).digest('hex').slice(0, 128).toUpperCase();
      doc = { body, contentType: 'application/json', etag: `"${hash}"`, hash };
    }
    documents.set(groupVersionPath, doc);
  }
  return doc ?? undefined;
}

/** GET /openapi/v3: every served group/version, with URLs under the cluster's prefix. */
export function openapiIndex(prefix: string): PreparedDocument {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const key of Object.keys(openapiV3Paths())) {
    const doc = openapiDocument(key);
    if (!doc) continue;
    paths[key] = { serverRelativeURL: `${prefix}/openapi/v3/${key}?hash=${doc.hash}` };
  }
  const body = JSON.stringify({ paths });
  return { body, contentType: 'application/json', etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"` };
}
