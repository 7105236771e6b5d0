#!/usr/bin/env node
// Entry point for the `kubelab` command: runs the TypeScript CLI through tsx.
import { register } from 'tsx/esm/api';
register();
await import('../server/cli/main.ts');
