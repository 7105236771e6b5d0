// Bridges one WebSocket to a TerminalSession with the typed protocol. The caller has already
// checked Origin and the learner's session on the upgrade; this only speaks the protocol.
import type { WebSocket } from 'ws';
import { CloseCode, parseClientMessage, ProtocolError, type ServerMessage } from '../../shared/terminal-protocol.ts';
import type { TerminalClient, TerminalSession } from './session.ts';

/** Attach `ws` to `session` until either closes; bad frames close the socket with 1008. */
export function bridgeTerminal(ws: WebSocket, session: TerminalSession): TerminalClient {
  const client: TerminalClient = {
    send(message: ServerMessage) {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
    },
    bufferedAmount: () => ws.bufferedAmount,
    close(code, reason) {
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason);
    },
  };
  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      ws.close(CloseCode.policy, 'binary frames are not part of the protocol');
      return;
    }
    try {
      session.receive(client, parseClientMessage(data.toString()));
    } catch (err) {
      if (err instanceof ProtocolError) {
        client.send({ type: 'error', message: err.message });
        ws.close(CloseCode.policy, err.message.slice(0, 120));
      } else {
        throw err;
      }
    }
  });
  ws.on('close', () => session.detach(client));
  ws.on('error', () => session.detach(client));
  session.attach(client);
  return client;
}
