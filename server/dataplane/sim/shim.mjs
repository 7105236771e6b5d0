// The program behind nc, curl, wget, nslookup, dig and ping in a sim-plane container: it hands
// its name, arguments and (when asked) stdin to the server over the per-cluster unix socket with
// this exec's secret, and replays what comes back. Plain JavaScript so it starts without tsx.
import net from 'node:net';

const [tool, ...args] = process.argv.slice(2);
const socketPath = process.env.KUBELAB_SIM_SOCKET;
const token = process.env.KUBELAB_SIM_TOKEN;
if (!socketPath || !token) {
  process.stderr.write(`${tool}: not connected to a simulated cluster\n`);
  process.exit(126);
}
const sock = net.connect(socketPath);
let done = false;
let buffered = '';
sock.on('connect', () => {
  sock.write(JSON.stringify({ token, tool, args, stdoutIsTTY: process.stdout.isTTY === true, stdinIsTTY: process.stdin.isTTY === true }) + '\n');
});
sock.on('data', (chunk) => {
  buffered += chunk.toString('utf8');
  let nl;
  while ((nl = buffered.indexOf('\n')) >= 0) {
    const line = buffered.slice(0, nl);
    buffered = buffered.slice(nl + 1);
    if (!line) continue;
    const frame = JSON.parse(line);
    if (frame.o !== undefined) process.stdout.write(Buffer.from(frame.o, 'base64'));
    else if (frame.e !== undefined) process.stderr.write(Buffer.from(frame.e, 'base64'));
    else if (frame.in) {
      if (process.stdin.isTTY) sock.write(JSON.stringify({ ie: true }) + '\n');
      else {
        process.stdin.on('data', (d) => sock.write(JSON.stringify({ i: d.toString('base64') }) + '\n'));
        process.stdin.on('end', () => sock.write(JSON.stringify({ ie: true }) + '\n'));
        process.stdin.on('error', () => sock.write(JSON.stringify({ ie: true }) + '\n'));
      }
    } else if (frame.x !== undefined) {
      done = true;
      process.exitCode = frame.x;
      process.stdin.destroy();
      sock.end();
    }
  }
});
sock.on('error', (err) => {
  if (!done) {
    process.stderr.write(`${tool}: lost the simulated cluster (${err.message})\n`);
    process.exitCode = 126;
  }
});
sock.on('close', () => {
  if (!done) process.exitCode = process.exitCode || 126;
  process.stdin.destroy();
});
