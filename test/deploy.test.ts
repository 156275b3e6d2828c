/**
 * The deployment cannot be run here (no Docker engine), so these tests check what can be:
 * the compose file is valid for docker-compose, and the image's commands, the compose
 * commands, the package bins and `npm start` all name the same built programs, which start
 * and pass the compose healthchecks with the compose environment.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GATEWAY_NODE_FLAGS, TOR_SERVER_NODE_FLAGS, makeCertificates, parseListening, scratchDir, spawnNode, type NodeProcess } from 'test-support';
import { parse } from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

interface ComposeService {
  command: string[];
  environment: Record<string, string>;
  healthcheck: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  ports?: string[];
  restart?: string;
}
const compose = parse(read('docker-compose.yml')) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };

/** A `node ...` command without its V8/Node flags (`--initial-heap-size=64`). */
function withoutNodeFlags(command: string[]): string[] {
  return command.filter((part, i) => i === 0 || !part.startsWith('--'));
}

/** The JSON-array CMD of the Dockerfile's final stage. */
function dockerfileCmd(): string[] {
  const cmds = [...read('Dockerfile').matchAll(/^CMD (\[.*\])$/gm)];
  assert.equal(cmds.length, 1, 'one CMD, in the final stage');
  return JSON.parse(cmds[0]![1]!) as string[];
}

function binPath(workspace: string, bin: string): string {
  const manifest = JSON.parse(read(`${workspace}/package.json`)) as { bin: Record<string, string> };
  return path.posix.join(workspace, manifest.bin[bin]!);
}

test('docker-compose accepts the compose file', (t) => {
  try {
    execFileSync('docker-compose', ['version'], { stdio: 'ignore' });
  } catch {
    console.log('SKIPPED: compose validation (docker-compose is not installed; apt-get install docker-compose)');
    t.skip('docker-compose not installed');
    return;
  }
  execFileSync('docker-compose', ['config', '-q'], { cwd: ROOT, stdio: 'pipe' });
});

test('the image, compose, the package bins and npm start all run the same built programs', () => {
  const server = binPath('tor-server', 'tor-server');
  const gateway = binPath('gateway', 'tor-gateway');
  assert.deepEqual(withoutNodeFlags(dockerfileCmd()), ['node', server]);
  assert.deepEqual(withoutNodeFlags(compose.services['tor-server']!.command), ['node', server]);
  assert.deepEqual(withoutNodeFlags(compose.services.gateway!.command), ['node', gateway]);
  const start = read('scripts/start.mjs');
  assert.ok(start.includes(`'${server}'`) && start.includes(`'${gateway}'`), 'npm start runs the same two bins');
  // They exist after the build that the Dockerfile runs (`npm run build`, as `npm test` did before this).
  assert.match(read('Dockerfile'), /RUN npm ci .*\n[\s\S]*RUN npm run build/);
  for (const bin of [server, gateway]) {
    // Each bin is a committed launcher (so npm can link it before the build) importing the built program.
    const target = /^import '(.+)';$/m.exec(read(bin))?.[1];
    assert.ok(target, `${bin} imports the built program`);
    assert.ok(existsSync(path.resolve(ROOT, path.dirname(bin), target)), `${bin} → ${target} is built`);
  }
  assert.ok(existsSync(path.join(ROOT, 'web/dist/index.html')), 'the web app the image copies is built');
});

test('every way of starting each server gives V8 the heap flag the tests and benches run it with', () => {
  const servers = [
    { workspace: 'tor-server', bin: 'tor-server', service: 'tor-server', flags: TOR_SERVER_NODE_FLAGS, startConstant: 'TOR_SERVER_HEAP_FLAG' },
    { workspace: 'gateway', bin: 'tor-gateway', service: 'gateway', flags: GATEWAY_NODE_FLAGS, startConstant: 'GATEWAY_HEAP_FLAG' },
  ] as const;
  for (const { workspace, bin, service, flags, startConstant } of servers) {
    assert.equal(flags.length, 1);
    const flag = flags[0]!;
    assert.deepEqual(compose.services[service]!.command.slice(0, 2), ['node', flag], `compose: ${service}`);
    assert.equal(read(binPath(workspace, bin)).split('\n')[0], `#!/usr/bin/env -S node ${flag}`, `${bin}'s shebang (npx, node_modules/.bin)`);
    const manifest = JSON.parse(read(`${workspace}/package.json`)) as { scripts: Record<string, string> };
    assert.match(manifest.scripts.start!, new RegExp(`^node ${flag} `), `npm start -w ${workspace}`);
    assert.match(read('scripts/start.mjs'), new RegExp(`const ${startConstant} = '${flag}';`), 'npm start');
  }
  assert.deepEqual(dockerfileCmd().slice(0, 2), ['node', TOR_SERVER_NODE_FLAGS[0]], 'the image runs the tor-server');
});

test('after npm install the bins are on node_modules/.bin and run', () => {
  for (const bin of ['tor-server', 'tor-client', 'tor-gateway']) {
    const output = execFileSync(path.join(ROOT, 'node_modules/.bin', bin), ['--help'], { encoding: 'utf8' });
    assert.match(output, /^Usage: /, `${bin} --help`);
  }
});

test('compose wiring: volume, healthchecks, restart policy, start order', () => {
  const server = compose.services['tor-server']!;
  const gateway = compose.services.gateway!;
  assert.ok(server.volumes?.some((v) => v.startsWith('tor_files:') && v.endsWith(server.environment.TOR_DIR!)), 'named volume mounted as TOR_DIR');
  assert.ok('tor_files' in compose.volumes);
  assert.equal(server.restart, 'unless-stopped');
  assert.equal(gateway.restart, 'unless-stopped');
  assert.equal(gateway.environment.TOR_HOST, 'tor-server');
  // Sign-in required, and the gateway trusted by its service name to name its users' addresses.
  assert.equal(server.environment.TOR_AUTH, '${TOR_AUTH:-required}');
  assert.equal(server.environment.TOR_TRUSTED_PROXIES, '${TOR_TRUSTED_PROXIES:-gateway}');
  assert.deepEqual(gateway.depends_on, { 'tor-server': { condition: 'service_healthy' } });
  for (const ignored of ['**/node_modules', '**/dist', '**/tor_files']) assert.ok(read('.dockerignore').split('\n').includes(ignored), `.dockerignore has ${ignored}`);
  // The names browsers use come from .env: without them the gateway answers only localhost.
  assert.equal(gateway.environment.GATEWAY_ALLOWED_HOSTS, '${GATEWAY_ALLOWED_HOSTS:-}');
  assert.match(read('.env.example'), /^GATEWAY_ALLOWED_HOSTS=/m);
});

// The compose metrics ports, as the service ports, would clash between tests run side by side.
const FREE_METRICS = { TOR_METRICS_PORT: '0', TOR_METRICS_HOST: '127.0.0.1', GATEWAY_METRICS_PORT: '0', GATEWAY_METRICS_HOST: '127.0.0.1' };

test('compose serves both programs\' metrics on the compose network only, never published', () => {
  const server = compose.services['tor-server']!;
  const gateway = compose.services.gateway!;
  assert.deepEqual([server.environment.TOR_METRICS_HOST, server.environment.TOR_METRICS_PORT], ['0.0.0.0', '9777']);
  assert.deepEqual([gateway.environment.GATEWAY_METRICS_HOST, gateway.environment.GATEWAY_METRICS_PORT], ['0.0.0.0', '9778']);
  for (const service of [server, gateway]) assert.ok(!service.ports?.some((port) => /:97\d\d$/.test(port)), 'metrics ports are not published');
});

test('both programs start with the compose environment and pass the compose healthchecks', async (t) => {
  const dir = await scratchDir(t, 'tor-deploy-');
  const server = compose.services['tor-server']!;
  const gateway = compose.services.gateway!;
  // Only what cannot hold outside a container changes: free ports, a scratch folder, localhost.
  const serverEnv = { ...substitute(server.environment), TOR_PORT: '0', TOR_DIR: dir, TOR_HOST: '127.0.0.1', ...FREE_METRICS };
  const tor = await startService(t, server.command, serverEnv);
  const gatewayEnv = { ...substitute(gateway.environment), GATEWAY_PORT: '0', GATEWAY_HOST: '127.0.0.1', TOR_HOST: '127.0.0.1', TOR_PORT: String(tor.port), ...FREE_METRICS };
  const gw = await startService(t, gateway.command, gatewayEnv);

  await runHealthcheck(server.healthcheck.test, '7777', tor.port);
  await runHealthcheck(gateway.healthcheck.test, '8080', gw.port);
});

test('the compose healthchecks speak TLS when the services serve it', async (t) => {
  const certs = makeCertificates(await scratchDir(t, 'tor-deploy-certs-'));
  const server = compose.services['tor-server']!;
  const gateway = compose.services.gateway!;
  const tls = { TOR_TLS_CERT: certs.certFile, TOR_TLS_KEY: certs.keyFile, TOR_TLS_PORT: '' };
  const serverEnv = { ...substitute(server.environment), TOR_PORT: '0', TOR_DIR: await scratchDir(t, 'tor-deploy-'), TOR_HOST: '127.0.0.1', ...FREE_METRICS, ...tls };
  const tor = await startService(t, server.command, serverEnv);
  await runHealthcheck(server.healthcheck.test, '7777', tor.port, serverEnv);
  const https = { GATEWAY_TLS_CERT: certs.certFile, GATEWAY_TLS_KEY: certs.keyFile, TOR_TLS: '1', TOR_CA: certs.caFile };
  const gatewayEnv = { ...substitute(gateway.environment), GATEWAY_PORT: '0', GATEWAY_HOST: '127.0.0.1', TOR_HOST: '127.0.0.1', TOR_PORT: String(tor.port), ...FREE_METRICS, ...https };
  const gw = await startService(t, gateway.command, gatewayEnv);
  await runHealthcheck(gateway.healthcheck.test, '8080', gw.port, gatewayEnv);
});

test('the gateway with the compose environment answers the host names from .env, and 421 to any other', async (t) => {
  const dir = await scratchDir(t, 'tor-deploy-');
  const server = compose.services['tor-server']!;
  const gateway = compose.services.gateway!;
  const tor = await startService(t, server.command, { ...substitute(server.environment), TOR_PORT: '0', TOR_DIR: dir, TOR_HOST: '127.0.0.1', ...FREE_METRICS });
  const env = { ...substitute(gateway.environment, { GATEWAY_ALLOWED_HOSTS: 'files.example.org' }), GATEWAY_PORT: '0', GATEWAY_HOST: '127.0.0.1', TOR_HOST: '127.0.0.1', TOR_PORT: String(tor.port), ...FREE_METRICS };
  const gw = await startService(t, gateway.command, env);
  assert.equal(await statusFor(gw.port, 'files.example.org'), 200);
  assert.equal(await statusFor(gw.port, `localhost:${gw.port}`), 200);
  assert.equal(await statusFor(gw.port, 'rebound.evil.example'), 421);
});

/** The status of GET /api/health with the given Host header. */
function statusFor(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/api/health', headers: { host } }, (response) => {
        response.resume();
        resolve(response.statusCode!);
      })
      .on('error', reject);
  });
}

/** Compose's `${VAR:-default}`: the value from `dotEnv` (an .env file), else the default. */
function substitute(environment: Record<string, string>, dotEnv: Record<string, string> = {}): Record<string, string> {
  return Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, String(v).replace(/\$\{(\w+):-([^}]*)\}/g, (_, name: string, fallback: string) => dotEnv[name] || fallback)]));
}

/** Runs a compose service's `node ...` command from the repository root and returns it with the port its listening line names. */
async function startService(t: TestContext, command: string[], env: Record<string, string>): Promise<NodeProcess & { port: number }> {
  const [program, ...args] = command;
  assert.equal(program, 'node');
  const script = args.findIndex((a) => !a.startsWith('--'));
  const service = spawnNode(t, args[script]!, { nodeFlags: args.slice(0, script), args: args.slice(script + 1), env, cwd: ROOT });
  const { port } = await service.firstLine(parseListening, 'listening');
  return { ...service, port };
}

/** Runs a compose `CMD` healthcheck with the container port swapped for the test's, in the service's environment. */
async function runHealthcheck(check: string[], containerPort: string, port: number, env: NodeJS.ProcessEnv = {}): Promise<void> {
  assert.equal(check[0], 'CMD');
  const [program, ...args] = check.slice(1).map((part) => part.replaceAll(containerPort, String(port)));
  assert.equal(program, 'node');
  const code = await new Promise<number | null>((resolve) => spawn(process.execPath, args, { stdio: 'inherit', env: { ...process.env, ...env } }).once('exit', resolve));
  assert.equal(code, 0, `healthcheck ${check.join(' ')} passes`);
}
