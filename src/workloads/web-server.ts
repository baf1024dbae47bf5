// The nginx and httpd images: a static web server with the image's default page, on port 80
// and on every other TCP containerPort the container declares.
import type http from 'node:http';
import { serveHttpInNetns, type OpenServer } from './sockets.js';
import { servingWorkload, type WorkloadContext, type WorkloadMain } from './workload.js';

export const NGINX_PAGE = `<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. This page is served by flatnet's built-in nginx image.</p>
</body>
</html>
`;

export const HTTPD_PAGE = '<html><body><h1>It works!</h1></body></html>\n';

function listenPorts(ctx: WorkloadContext): number[] {
  const ports = new Set<number>([80]);
  for (const p of ctx.ports) if ((p.protocol ?? 'TCP') === 'TCP') ports.add(p.containerPort);
  return [...ports];
}

function staticSite(ctx: WorkloadContext, server: string, page: string): http.RequestListener {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://site');
    const client = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const found = url.pathname === '/' || url.pathname === '/index.html';
    const body = found ? page : `<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1></body></html>\n`;
    const code = found ? 200 : 404;
    res.writeHead(code, { server, 'content-type': 'text/html', 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
    ctx.stdout(`${client} - - [${new Date().toISOString()}] "${req.method} ${req.url} HTTP/${req.httpVersion}" ${code} ${Buffer.byteLength(body)} "-" "${req.headers['user-agent'] ?? '-'}"\n`);
  };
}

function webServer(server: string, page: string): WorkloadMain {
  return async (ctx) => {
    const servers: OpenServer[] = [];
    const workload = servingWorkload([() => servers.forEach((s) => s.close())]);
    for (const port of listenPorts(ctx)) {
      servers.push(await serveHttpInNetns(ctx.netns, port, staticSite(ctx, server, page)));
    }
    ctx.stdout(`${server}: serving the default page on ports ${listenPorts(ctx).join(', ')}\n`);
    return workload;
  };
}

export const runNginx = webServer('nginx/1.27.0 (flatnet)', NGINX_PAGE);
export const runHttpd = webServer('Apache/2.4.62 (flatnet)', HTTPD_PAGE);
