import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandError, parseKubectlCommand, splitCommand } from './commands.ts';

test('quotes group words, backslashes escape', () => {
  assert.deepEqual(splitCommand(`kubectl annotate pod web -n shop note="hello world" 'a b' c\\ d`), ['kubectl', 'annotate', 'pod', 'web', '-n', 'shop', 'note=hello world', 'a b', 'c d']);
  assert.deepEqual(splitCommand(`kubectl get pods -o jsonpath='{.items[*].metadata.name}'`), ['kubectl', 'get', 'pods', '-o', 'jsonpath={.items[*].metadata.name}']);
  assert.deepEqual(splitCommand('kubectl   get  ""'), ['kubectl', 'get', '']);
});

test('anything needing a shell is refused', () => {
  for (const line of ['kubectl get pods | grep web', 'kubectl get pods; rm -rf /', 'kubectl get pods > out', 'kubectl get $(whoami)', 'kubectl get `id`', 'kubectl get pods && true', 'kubectl get $HOME']) {
    assert.throws(() => splitCommand(line), CommandError, line);
  }
  // quoted, the same characters are plain text
  assert.deepEqual(splitCommand(`kubectl annotate pod x 'a=b|c;d'`), ['kubectl', 'annotate', 'pod', 'x', 'a=b|c;d']);
});

test('only kubectl', () => {
  assert.throws(() => parseKubectlCommand('rm -rf /'), /must start with kubectl/);
  assert.throws(() => parseKubectlCommand('kubectl'), /sub-command/);
  assert.throws(() => splitCommand(`kubectl get 'pods`), /unterminated/);
});
