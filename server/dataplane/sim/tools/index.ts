// The network tools the sim plane puts on a container's PATH, by the name they are called as.
import type { Tool } from './common.ts';
import { nc } from './nc.ts';
import { curl } from './curl.ts';
import { wget } from './wget.ts';
import { nslookup, dig } from './dns-tools.ts';
import { ping } from './ping.ts';

export const SIM_TOOLS: Readonly<Record<string, Tool>> = { nc, netcat: nc, curl, wget, nslookup, dig, ping };
export type { Tool, ToolContext, ToolIO } from './common.ts';
