import http from 'node:http';
import type { TestContext } from 'node:test';

/**
 * An HTTP proxy in front of the engine that runs `onAnswer` before passing on the answer to
 * requests `match` picks (the request's Host header is kept, so its signature still holds).
 */
export async function answerHookProxy(t: TestContext, target: string, match: (req: http.IncomingMessage) => boolean, onAnswer: () => Promise<void>, options: { failMatched?: boolean } = {}): Promise<string> {
  const { hostname, port } = new URL(target);
  const server = http.createServer((req, res) => {
    if (options.failMatched && match(req)) {
      // The engine fails the request (500) without doing it, after `onAnswer` ran.
      req.resume();
      const fail = () => res.writeHead(500, { 'content-type': 'application/xml' }).end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message></Message></Error>');
      void onAnswer().then(fail, fail);
      return;
    }
    const upstream = http.request({ host: hostname, port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      const pass = () => {
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      };
      if (match(req)) void onAnswer().then(pass, pass);
      else pass();
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}
