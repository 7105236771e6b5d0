// The kind + Calico backend's public surface.
export { createKindBackend, KindBackend } from './backend.ts';
export type { KindEnvironment, KindBackendStats } from './backend.ts';
export type { KindBackendOptions, KindTimeouts } from './options.ts';
export { resolveKindOptions, KindOptionsError } from './options.ts';
export type { CniChoice } from './config.ts';
export { CNI_CHOICES } from './config.ts';
export { KindError } from './errors.ts';
export type { KindFailure } from './errors.ts';
export { KIND_VERSION, NODE_IMAGE, CALICO_VERSION, CALICO_MANIFEST_URL, NETSHOOT_IMAGE } from './pins.ts';
export { ENVIRONMENT_SETTINGS } from './options.ts';
