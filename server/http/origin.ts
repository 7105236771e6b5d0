// Cross-site WebSocket hijacking defence: a browser attaches the session cookie to a WebSocket
// handshake from any page, so every upgrade must carry an Origin that is exactly the origin we
// serve. Compared as parsed URLs (scheme, host, port with defaults filled in), never by
// substring or regex, so `http://lab.example.evil.com` or `http://lab.example:8081` don't pass.

/** `scheme://host:port` with the default port made explicit, or undefined if unparsable or opaque. */
export function normaliseOrigin(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username || url.password) return undefined;
  if (url.pathname !== '/' || url.search || url.hash) {
    // an Origin header is scheme://host[:port] only; anything else is not a browser's
    if (value.replace(/\/$/, '') !== `${url.protocol}//${url.host}`) return undefined;
  }
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return `${url.protocol}//${url.hostname.toLowerCase()}:${port}`;
}

/**
 * True when `origin` (the request's Origin header) is one of `allowed` (the origins this server
 * is reached at). A missing Origin, `null`, or anything unparsable is refused.
 */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  if (!origin || origin === 'null') return false;
  const got = normaliseOrigin(origin);
  if (!got) return false;
  return allowed.some((a) => normaliseOrigin(a) === got);
}
