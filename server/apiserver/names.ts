// Identity of stored objects: uids, timestamps, and the name a generateName prefix becomes.
import { randomUUID } from 'node:crypto';
import { randomSuffix } from './defaults.ts';

export function newUid(): string {
  return randomUUID();
}

/** names.SimpleNameGenerator: the prefix (cut to leave room) plus five random characters. */
export function generateName(prefix: string): string {
  const maxPrefix = 63 - 5;
  const base = prefix.length > maxPrefix ? prefix.slice(0, maxPrefix) : prefix;
  return base + randomSuffix(5);
}
