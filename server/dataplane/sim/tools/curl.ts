// curl 7.88 as the sim plane answers it: resolve, connect, speak HTTP to what listens, and the
// error lines and exit codes the real curl prints for each way that can fail.
import { httpAnswer, type HttpAnswer } from '../../apps.ts';
import { GETADDRINFO_TIMEOUT_MS, TCP_CONNECT_TIMEOUT_MS } from '../network.ts';
import { parseOptions, responseHead, seconds, unsupported, type Tool, type ToolContext } from './common.ts';
import { isIPv4 } from '../../ipv4.ts';

const WITH_VALUE = new Set(['o', 'w', 'm', 'max-time', 'connect-timeout', 'X', 'request', 'H', 'header', 'd', 'data', 'data-raw', 'A', 'user-agent', 'u', 'user', 'retry', 'e', 'referer', 'output', 'write-out', 'resolve', 'cacert', 'b', 'cookie']);
const LONG: Record<string, string> = { silent: 's', 'show-error': 'S', insecure: 'k', include: 'i', head: 'I', location: 'L', fail: 'f', verbose: 'v', output: 'o', 'write-out': 'w', 'max-time': 'm', request: 'X', header: 'H', data: 'd', 'data-raw': 'd' };

export const CURL_VERSION = '7.88.1';

interface Url {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  path: string;
  text: string;
}

function parseUrl(text: string): Url | undefined {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    return undefined;
  }
  const scheme = u.protocol.replace(':', '');
  if (scheme !== 'http' && scheme !== 'https') return undefined;
  return { scheme, host: u.hostname, port: u.port ? Number(u.port) : scheme === 'https' ? 443 : 80, path: (u.pathname || '/') + u.search, text: withScheme };
}

interface Transfer {
  code: number;
  remoteIP: string;
  port: number;
  answer?: HttpAnswer;
  elapsedMs: number;
  url: string;
}

function writeOut(format: string, t: Transfer): string {
  const unescaped = format.replace(/\\([nrt\\])/g, (_m, c: string) => ({ n: '\n', r: '\r', t: '\t', '\\': '\\' })[c] ?? c);
  return unescaped.replace(/%\{([a-z_]+)\}/g, (_m, name: string) => {
    switch (name) {
      case 'http_code':
      case 'response_code':
        return String(t.answer?.status ?? 0).padStart(3, '0');
      case 'remote_ip':
        return t.remoteIP;
      case 'remote_port':
        return t.remoteIP ? String(t.port) : '0';
      case 'size_download':
        return String(t.answer ? Buffer.byteLength(t.answer.body) : 0);
      case 'content_type':
        return t.answer?.headers['Content-Type'] ?? '';
      case 'time_total':
      case 'time_connect':
      case 'time_namelookup':
        return (t.elapsedMs / 1000).toFixed(6);
      case 'url_effective':
        return t.url;
      case 'exitcode':
        return String(t.code);
      default:
        return '';
    }
  });
}

export const curl: Tool = async (args: string[], ctx: ToolContext): Promise<number> => {
  const { io, net, src } = ctx;
  const { flags, positional } = parseOptions(args, WITH_VALUE, LONG);
  if (flags.has('V') || flags.has('version')) {
    io.stdout(`curl ${CURL_VERSION} (x86_64-pc-linux-gnu)\n`);
    return 0;
  }
  for (const f of ['K', 'config', 'F', 'form', 'T', 'upload-file']) if (flags.has(f)) return unsupported('curl', `--${f}`, io);
  const silent = flags.has('s');
  const showError = !silent || flags.has('S');
  const fail = (code: number, msg: string): number => {
    if (showError) io.stderr(`curl: (${code}) ${msg}\n`);
    return code;
  };
  if (positional.length === 0) {
    io.stderr("curl: try 'curl --help' or 'curl --manual' for more information\n");
    return 2;
  }
  const url = parseUrl(positional[0]);
  if (!url) return fail(3, 'URL using bad/illegal format or missing URL');
  const maxTime = seconds(flags.get('m'));
  const connectTimeout = seconds(flags.get('connect-timeout'));
  const output = flags.get('o');
  const format = flags.get('w');
  const head = flags.has('I');
  const include = flags.has('i') || head;
  const verbose = flags.has('v');
  const method = typeof flags.get('X') === 'string' ? String(flags.get('X')) : head ? 'HEAD' : flags.has('d') ? 'POST' : 'GET';
  const started = Date.now();
  const t: Transfer = { code: 0, remoteIP: '', port: url.port, elapsedMs: 0, url: url.text };
  const finish = (code: number): number => {
    t.code = code;
    t.elapsedMs = Date.now() - started;
    if (typeof format === 'string') io.stdout(writeOut(format, t));
    return code;
  };

  // Name resolution (curl uses getaddrinfo, so the pod's search path applies).
  let ip = url.host;
  const pinned = typeof flags.get('resolve') === 'string' ? /^([^:]+):(\d+):(.+)$/.exec(String(flags.get('resolve'))) : null;
  if (pinned && pinned[1].toLowerCase() === url.host.toLowerCase() && Number(pinned[2]) === url.port) ip = pinned[3];
  else if (!isIPv4(url.host)) {
    const r = net.resolve(src, url.host);
    if (r.kind === 'timeout') {
      if (maxTime !== undefined && maxTime * 1000 < GETADDRINFO_TIMEOUT_MS) {
        await io.sleep(maxTime * 1000);
        return finish(fail(28, `Resolving timed out after ${Math.round(maxTime * 1000)} milliseconds`));
      }
      await io.sleep(GETADDRINFO_TIMEOUT_MS);
      return finish(fail(6, `Could not resolve host: ${url.host}`));
    }
    if (r.kind === 'nxdomain') return finish(fail(6, `Could not resolve host: ${url.host}`));
    ip = r.addresses[0];
  }
  if (verbose) io.stderr(`*   Trying ${ip}:${url.port}...\n`);
  const outcome = net.connect(src, ip, url.port, 'TCP');
  if (outcome.kind === 'refused') return finish(fail(7, `Failed to connect to ${url.host} port ${url.port} after 0 ms: Couldn't connect to server`));
  if (outcome.kind === 'timeout') {
    const limits = [maxTime, connectTimeout].filter((x): x is number => x !== undefined);
    if (limits.length === 0) {
      await io.sleep(TCP_CONNECT_TIMEOUT_MS);
      return finish(fail(28, `Failed to connect to ${url.host} port ${url.port} after ${TCP_CONNECT_TIMEOUT_MS} ms: Timeout was reached`));
    }
    const limit = Math.min(...limits);
    await io.sleep(limit * 1000);
    if (connectTimeout !== undefined && (maxTime === undefined || connectTimeout < maxTime)) {
      return finish(fail(28, `Failed to connect to ${url.host} port ${url.port} after ${Math.round(limit * 1000)} ms: Timeout was reached`));
    }
    return finish(fail(28, `Connection timed out after ${Math.round(limit * 1000)} milliseconds`));
  }
  t.remoteIP = ip;
  if (verbose) io.stderr(`* Connected to ${url.host} (${ip}) port ${url.port} (#0)\n`);
  const listener = outcome.listener;
  const waitForever = async (): Promise<number> => {
    if (maxTime === undefined) {
      await io.sleep(2 ** 31 - 1);
      return finish(fail(28, 'Operation timed out'));
    }
    await io.sleep(maxTime * 1000);
    return finish(fail(28, `Operation timed out after ${Math.round(maxTime * 1000)} milliseconds with 0 bytes received`));
  };
  if (listener.kind === 'https' && url.scheme === 'http') return finish(fail(52, 'Empty reply from server'));
  if (listener.kind === 'http' && url.scheme === 'https') return finish(fail(35, `OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to ${url.host}:${url.port} `));
  if (listener.kind !== 'http' && listener.kind !== 'https') return waitForever();
  if (listener.kind === 'https' && !flags.has('k')) {
    if (showError) {
      io.stderr(
        'curl: (60) SSL certificate problem: self-signed certificate\nMore details here: https://curl.se/docs/sslcerts.html\n\n' +
          'curl failed to verify the legitimacy of the server and therefore could not\nestablish a secure connection to it. To learn more about this situation and\nhow to fix it, please visit the web page mentioned above.\n',
      );
    }
    return finish(60);
  }
  const answer = httpAnswer(listener.flavour, method, url.path, listener.owner);
  t.answer = answer;
  const headText = responseHead(answer, io.now(), true, method === 'HEAD');
  if (verbose) {
    io.stderr(`> ${method} ${url.path} HTTP/1.1\n> Host: ${url.host}${url.port === (url.scheme === 'https' ? 443 : 80) ? '' : `:${url.port}`}\n> User-Agent: curl/${CURL_VERSION}\n> Accept: */*\n> \n`);
    io.stderr(headText.split('\r\n').filter((l, i, a) => i < a.length - 1).map((l) => `< ${l}\r\n`).join(''));
  }
  if (flags.has('f') && answer.status >= 400) return finish(fail(22, `The requested URL returned error: ${answer.status}`));
  const body = method === 'HEAD' ? '' : answer.body;
  const payload = (include ? headText : '') + body;
  if (output === '/dev/null') {
    // discarded
  } else if (output === undefined || output === '-' || output === true) {
    io.stdout(payload);
  } else {
    return finish(unsupported('curl', '-o to a file', io));
  }
  if (!silent && !io.stdoutIsTTY && output !== '/dev/null') {
    // curl shows its progress meter when the body goes to a pipe; numbers are the transfer's own.
    const n = Buffer.byteLength(payload);
    io.stderr(
      '  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n' +
        '                                 Dload  Upload   Total   Spent    Left  Speed\n' +
        `\r  0     0    0     0    0     0      0      0 --:--:-- --:--:-- --:--:--     0\r100${String(n).padStart(6)}  100${String(n).padStart(6)}    0     0  ${String(n * 1000).padStart(5)}      0 --:--:-- --:--:-- --:--:--  ${String(n * 1000).padStart(5)}\n`,
    );
  }
  if (verbose) io.stderr(`* Connection #0 to host ${url.host} left intact\n`);
  return finish(0);
};
