// IP addresses and CIDR blocks as kube-apiserver parses them (k8s.io/utils/net ParseIPSloppy and
// ParseCIDRSloppy: Go's pre-1.17 parser, which still accepts leading zeros in IPv4 octets).
// Addresses are kept as bigints with their family so containment is one mask-and-compare.

export interface IPAddress {
  family: 4 | 6;
  /** the address as an unsigned integer of 32 (IPv4) or 128 (IPv6) bits */
  value: bigint;
}

export interface CIDRBlock {
  family: 4 | 6;
  /** the network number: the parsed address with host bits cleared */
  network: bigint;
  prefix: number;
  /** the network mask as an integer of the family's width */
  mask: bigint;
}

function dtoi(s: string, at: number): { n: number; end: number } | undefined {
  let n = 0;
  let i = at;
  for (; i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57; i++) {
    n = n * 10 + (s.charCodeAt(i) - 48);
    if (n >= 0xffffff) return undefined;
  }
  return i === at ? undefined : { n, end: i };
}

function xtoi(s: string, at: number): { n: number; end: number } | undefined {
  let n = 0;
  let i = at;
  for (; i < s.length; i++) {
    const d = parseInt(s[i], 16);
    if (Number.isNaN(d)) break;
    n = n * 16 + d;
    if (n >= 0xffffff) return undefined;
  }
  return i === at ? undefined : { n, end: i };
}

function parseIPv4Bytes(s: string): number[] | undefined {
  const out: number[] = [];
  let at = 0;
  for (let i = 0; i < 4; i++) {
    if (at >= s.length) return undefined;
    if (i > 0) {
      if (s[at] !== '.') return undefined;
      at++;
    }
    const r = dtoi(s, at);
    if (!r || r.n > 0xff) return undefined;
    out.push(r.n);
    at = r.end;
  }
  return at === s.length ? out : undefined;
}

function parseIPv6Bytes(input: string): number[] | undefined {
  const ip = new Array<number>(16).fill(0);
  let s = input;
  let ellipsis = -1;
  if (s.startsWith('::')) {
    ellipsis = 0;
    s = s.slice(2);
    if (s.length === 0) return ip;
  }
  let i = 0;
  while (i < 16) {
    const r = xtoi(s, 0);
    if (!r || r.n > 0xffff) return undefined;
    if (r.end < s.length && s[r.end] === '.') {
      if (ellipsis < 0 && i !== 12) return undefined;
      if (i + 4 > 16) return undefined;
      const v4 = parseIPv4Bytes(s);
      if (!v4) return undefined;
      for (let k = 0; k < 4; k++) ip[i + k] = v4[k];
      s = '';
      i += 4;
      break;
    }
    ip[i] = r.n >> 8;
    ip[i + 1] = r.n & 0xff;
    i += 2;
    s = s.slice(r.end);
    if (s.length === 0) break;
    if (s[0] !== ':' || s.length === 1) return undefined;
    s = s.slice(1);
    if (s[0] === ':') {
      if (ellipsis >= 0) return undefined;
      ellipsis = i;
      s = s.slice(1);
      if (s.length === 0) break;
    }
  }
  if (s.length !== 0) return undefined;
  if (i < 16) {
    if (ellipsis < 0) return undefined;
    const n = 16 - i;
    for (let j = i - 1; j >= ellipsis; j--) ip[j + n] = ip[j];
    for (let j = ellipsis + n - 1; j >= ellipsis; j--) ip[j] = 0;
  } else if (ellipsis >= 0) {
    return undefined;
  }
  return ip;
}

function toBigInt(bytes: number[]): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

/** ParseIPSloppy: an IPv4 or IPv6 address; IPv4-mapped IPv6 addresses count as IPv4, as in Go. */
export function parseIP(s: string): IPAddress | undefined {
  const v4 = parseIPv4Bytes(s);
  if (v4) return { family: 4, value: toBigInt(v4) };
  const v6 = parseIPv6Bytes(s);
  if (!v6) return undefined;
  const value = toBigInt(v6);
  if (value >> 32n === 0xffffn) return { family: 4, value: value & 0xffffffffn };
  return { family: 6, value };
}

function maskOf(prefix: number, bits: number): bigint {
  const all = (1n << BigInt(bits)) - 1n;
  return prefix === 0 ? 0n : (all >> BigInt(bits - prefix)) << BigInt(bits - prefix);
}

/** ParseCIDRSloppy: `address/prefix`; host bits are allowed and cleared (`10.0.0.1/24` is 10.0.0.0/24). */
export function parseCIDR(s: string): CIDRBlock | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const addr = s.slice(0, slash);
  const maskText = s.slice(slash + 1);
  let family: 4 | 6 = 4;
  let bytes = parseIPv4Bytes(addr);
  if (!bytes) {
    family = 6;
    bytes = parseIPv6Bytes(addr);
  }
  const m = dtoi(maskText, 0);
  const bits = family === 4 ? 32 : 128;
  if (!bytes || !m || m.end !== maskText.length || m.n > bits) return undefined;
  let value = toBigInt(bytes);
  let prefix = m.n;
  // An IPv4-mapped IPv6 network is an IPv4 network to Go's IPNet.Contains.
  if (family === 6 && prefix >= 96 && value >> 32n === 0xffffn) {
    family = 4;
    value &= 0xffffffffn;
    prefix -= 96;
  }
  const mask = maskOf(prefix, family === 4 ? 32 : 128);
  return { family, network: value & mask, prefix, mask };
}

/** IPNet.Contains: same family, and the address under the block's mask equals its network. */
export function cidrContains(block: CIDRBlock, ip: IPAddress): boolean {
  return block.family === ip.family && (ip.value & block.mask) === block.network;
}

/** The `except` rule: `inner` is inside `outer` and strictly smaller. */
export function isStrictSubset(outer: CIDRBlock, inner: CIDRBlock): boolean {
  return cidrContains(outer, { family: inner.family, value: inner.network }) && outer.prefix < inner.prefix;
}

/** An address as text: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run as `::`). */
export function formatIP(ip: IPAddress): string {
  if (ip.family === 4) return [24n, 16n, 8n, 0n].map((s) => String((ip.value >> s) & 0xffn)).join('.');
  const groups: number[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(Number((ip.value >> s) & 0xffffn));
  let bestAt = -1;
  let bestLen = 1; // a single zero group is not compressed
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestAt < 0) return hex.join(':');
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLen).join(':')}`;
}

/** A block in canonical form: its network number and prefix (`10.0.0.1/24` becomes `10.0.0.0/24`). */
export function formatCIDR(b: CIDRBlock): string {
  return `${formatIP({ family: b.family, value: b.network })}/${b.prefix}`;
}
