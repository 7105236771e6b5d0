// IPv4 arithmetic for address allocation and nftables intervals. Pods, services and external
// hosts are IPv4 only in the embedded cluster, as in a default kind cluster.
import { parseCIDR } from '../netpol/index.ts';

export interface IPv4Block {
  /** network number as an unsigned 32-bit integer */
  network: number;
  prefix: number;
}

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) throw new Error(`"${ip}" is not an IPv4 address`);
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw new Error(`"${ip}" is not an IPv4 address`);
    n = n * 256 + Number(p);
  }
  return n;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function isIPv4(s: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(s) && s.split('.').every((p) => Number(p) <= 255);
}

/** An IPv4 CIDR, or a bare address as a /32; host bits are cleared as Go's ParseCIDR does. */
export function parseBlock(text: string): IPv4Block {
  const withPrefix = text.includes('/') ? text : `${text}/32`;
  const block = parseCIDR(withPrefix);
  if (!block || block.family !== 4) throw new Error(`"${text}" is not an IPv4 address or CIDR`);
  return { network: Number(block.network), prefix: block.prefix };
}

/** Like parseBlock, but undefined for IPv6 or unparsable text (an IPv6 ipBlock never matches an IPv4 pod). */
export function tryParseBlock(text: string): IPv4Block | undefined {
  try {
    return parseBlock(text);
  } catch {
    return undefined;
  }
}

export function blockSize(b: IPv4Block): number {
  return 2 ** (32 - b.prefix);
}

export function blockContains(b: IPv4Block, ip: string | number): boolean {
  const n = typeof ip === 'number' ? ip : ipToInt(ip);
  return n >= b.network && n < b.network + blockSize(b);
}

export function formatBlock(b: IPv4Block): string {
  return `${intToIp(b.network)}/${b.prefix}`;
}

/** The address a name resolves to for a block: the block itself when /32, else its first host. */
export function representativeAddress(b: IPv4Block): string {
  return intToIp(b.prefix >= 31 ? b.network : b.network + 1);
}

/** Hands out addresses of a block, lowest free first, never the network or broadcast address. */
export class AddressPool {
  private readonly used = new Set<number>();
  private next: number;
  private readonly first: number;
  private readonly last: number;

  constructor(cidr: string, reserved: number = 1) {
    const b = parseBlock(cidr);
    if (b.prefix > 30) throw new Error(`address pool ${cidr} is too small`);
    this.first = b.network + 1 + reserved;
    this.last = b.network + blockSize(b) - 2;
    this.next = this.first;
  }

  allocate(): string {
    const span = this.last - this.first + 1;
    for (let i = 0; i < span; i++) {
      const n = this.first + ((this.next - this.first + i) % span);
      if (!this.used.has(n)) {
        this.used.add(n);
        // Keep moving forward so a deleted pod's address is not handed out again at once,
        // which would let stale conntrack entries or DNS answers point at the new pod.
        this.next = n + 1 > this.last ? this.first : n + 1;
        return intToIp(n);
      }
    }
    throw new Error('no free address left in the pool');
  }

  release(ip: string): void {
    this.used.delete(ipToInt(ip));
  }

  get size(): number {
    return this.used.size;
  }
}
