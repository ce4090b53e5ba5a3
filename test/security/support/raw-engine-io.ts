import WebSocket from 'ws';

export type RawFrame = string | Buffer;

const MARKER_NAMESPACE = '/agent/v999';

/** What a raw session saw: whether the hub answered the namespace handshake, and whether it closed on us. */
export interface RawSessionResult {
  opened: boolean;
  authenticated: boolean;
  closedByHub: boolean;
}

/**
 * Speaks engine.io over a bare WebSocket, below socket.io-client, so frames no client library
 * would produce reach the hub: waits for the open packet, optionally connects the namespace with
 * `auth`, then sends `frames` and closes.
 */
export function rawSession(hubUrl: string, frames: RawFrame[], auth?: { namespace: string; payload: unknown }): Promise<RawSessionResult> {
  const url = `${hubUrl.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
  return new Promise((resolve) => {
    const result: RawSessionResult = { opened: false, authenticated: false, closedByHub: false };
    const socket = new WebSocket(url);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      socket.terminate();
      resolve(result);
    };
    const deadline = setTimeout(finish, 5_000);
    const sendAll = () => {
      for (const frame of frames) if (socket.readyState === WebSocket.OPEN) socket.send(frame);
      // A round trip: the hub answers a namespace of an unknown protocol major with a refusal,
      // in order, so by then it has handled every frame before it.
      if (socket.readyState === WebSocket.OPEN) socket.send(`40${MARKER_NAMESPACE},{}`);
    };
    socket.on('message', (data, isBinary) => {
      const text = isBinary ? '' : data.toString();
      if (text.startsWith('0{')) {
        result.opened = true;
        if (auth) socket.send(`40${auth.namespace},${JSON.stringify(auth.payload)}`);
        else sendAll();
      } else if (auth && text.startsWith(`40${auth.namespace},`)) {
        result.authenticated = true;
        sendAll();
      } else if (auth && text.startsWith(`44${auth.namespace},`)) {
        sendAll();
      } else if (text.startsWith(`44${MARKER_NAMESPACE},`)) {
        finish();
      } else if (text === '2') {
        socket.send('3');
      }
    });
    socket.on('close', () => {
      result.closedByHub = !done;
      finish();
    });
    socket.on('error', finish);
  });
}
