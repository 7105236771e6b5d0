// Loads the small N-API addon (native/kubelab_netns.c) that creates sockets and configures
// interfaces inside a network namespace from this process, so no helper process is needed per pod.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface NetnsAddon {
  /** A bound (and for tcp, listening) non-blocking socket created inside the namespace at nsPath. */
  socketInNetns(nsPath: string, family: 4 | 6, kind: 'tcp' | 'udp', port: number, address: string): number;
  /** lo and ifname up, address/32 on ifname, default route via gateway reached on-link. */
  configurePodInterface(nsPath: string, ifname: string, address: string, gateway: string): void;
  /** ifname up and a /32 route to podAddress through it. */
  attachPodRoute(nsPath: string, ifname: string, podAddress: string): void;
  /** Write /proc/sys/<key> as seen from inside the namespace. */
  writeSysctl(nsPath: string, key: string, value: string): void;
}

export const ADDON_PATH = fileURLToPath(new URL('../../native/build/Release/kubelab_netns.node', import.meta.url));

let loaded: { addon?: NetnsAddon; error?: string } | undefined;

/** The addon, or why it is not available (not built, wrong platform). */
export function loadNetnsAddon(): { addon?: NetnsAddon; error?: string } {
  if (loaded) return loaded;
  if (process.platform !== 'linux') return (loaded = { error: 'network namespaces need Linux' });
  if (!existsSync(ADDON_PATH)) return (loaded = { error: `native addon not built (${ADDON_PATH} missing; run \`node native/build.mjs\`)` });
  try {
    const require = createRequire(import.meta.url);
    loaded = { addon: require(ADDON_PATH) as NetnsAddon };
  } catch (err) {
    loaded = { error: `native addon failed to load: ${err instanceof Error ? err.message : String(err)}` };
  }
  return loaded;
}
