import WebSocket from 'ws';

// Opens a streaming URL (what Exec, Attach or PortForward answered) as a WebSocket offering the
// given subprotocols. A refused upgrade becomes an error that quotes the server's status and
// text (an expired token, an unsupported subprotocol), since that text says what to do.
// `onMessage` is listening from the start: the server may send its first messages (a
// port-forward's port prefix, early output) in the same packet as the upgrade answer, and ws
// emits them right after `open`, before an awaiting caller could add a listener.

export function openChannelSocket(url: string, subprotocols: readonly string[], what: string, onMessage: (message: Buffer) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, [...subprotocols]);
    } catch (error) {
      reject(new Error(`cannot open the ${what} at ${url}: ${(error as Error).message}`));
      return;
    }
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      onMessage(Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data));
    });
    const fail = (error: Error): void => reject(new Error(`cannot open the ${what} at ${url}: ${error.message}`));
    ws.once('error', fail);
    ws.once('unexpected-response', (_request, response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (body.length < 4096) body += chunk;
      });
      response.on('end', () => {
        reject(new Error(`cannot open the ${what} at ${url}: the server answered HTTP ${response.statusCode}${body.trim() ? `: ${body.trim()}` : ''}`));
        ws.terminate();
      });
    });
    ws.once('open', () => {
      ws.off('error', fail);
      resolve(ws);
    });
  });
}
