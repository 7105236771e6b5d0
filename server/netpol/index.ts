// The NetworkPolicy engine's public surface. Pure: no I/O, no clock, no Kubernetes client.
export type * from './types.ts';
export { formatFieldError, goQuote } from './fielderror.ts';
export {
  validateDNS1123Subdomain,
  validateDNS1123Label,
  validateQualifiedName,
  validateLabelValue,
  validateLabels,
  validateAnnotations,
  validateLabelSelector,
  validateObjectMeta,
  nameIsDNSSubdomain,
  nameIsDNSLabel,
  totalAnnotationSizeLimit,
} from './meta.ts';
export type { NameValidator, ObjectMetaLike } from './meta.ts';
export { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue, isValidPortName, isValidPortNum } from './names.ts';
export { validateNetworkPolicy, validateNetworkPolicyPort, validateNetworkPolicyPeer, validateIPBlock } from './validate.ts';
export { defaultNetworkPolicy } from './defaults.ts';
export { parseIP, parseCIDR, cidrContains } from './cidr.ts';
export type { IPAddress, CIDRBlock } from './cidr.ts';
export { PolicyEngine, evaluate } from './engine.ts';
export { InvalidPolicyError } from './policy.ts';
export type { Direction } from './policy.ts';
export { labelSelectorMatches, formatLabelSelector, compileSelector } from './selector.ts';
export type { CompiledSelector } from './selector.ts';
export { resolveNamedPort } from './ports.ts';
export { renderMatrix } from './matrix.ts';
export type { MatrixRequest } from './matrix.ts';
