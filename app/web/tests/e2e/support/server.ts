/** Serves the built dApp (dist/) on 127.0.0.1 at a free port, as a static site. */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

export type StaticSite = { url: string; close: () => Promise<void>; server: Server };

export async function serveStatic(root: string, extra?: (path: string) => { type: string; body: string } | null): Promise<StaticSite> {
  if (!existsSync(join(root, 'index.html'))) throw new Error(`${root}/index.html missing: build the dApp first (npm run build)`);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const custom = extra?.(path);
    if (custom) {
      res.writeHead(200, { 'content-type': custom.type, 'access-control-allow-origin': '*' });
      res.end(custom.body);
      return;
    }
    let file = normalize(join(root, path === '/' ? 'index.html' : path));
    if (!file.startsWith(root) || !existsSync(file) || statSync(file).isDirectory()) file = join(root, 'index.html');
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${addr.port}`,
    server,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
