#!/usr/bin/env node
// `npm start`: builds what is missing, then runs the tor-server and the gateway together with
// both logs on this terminal, prints the URL to open, and stops both on Ctrl-C or SIGTERM.
// Options (`npm start -- --tor-port 7778`) choose the ports, folder and address; environment
// variables (TOR_PORT, GATEWAY_PORT, TOR_DIR, ...) pass through to both, and options win.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// The programs as built, and the bins that run them (the same ones the Docker image runs).
const TOR_SERVER_BUILT = path.join(ROOT, 'tor-server/dist/bin/tor-server.js');
const GATEWAY_BUILT = path.join(ROOT, 'gateway/dist/main.js');
const TOR_SERVER_BIN = path.join(ROOT, 'tor-server/bin/tor-server.js');
const GATEWAY_BIN = path.join(ROOT, 'gateway/bin/tor-gateway.js');
// A larger initial heap than V8's own spares each server a full collection every few MB of
// transfer (see tor-server/src/bin/tor-server.ts and gateway/src/main.ts).
const TOR_SERVER_HEAP_FLAG = '--initial-heap-size=32';
const GATEWAY_HEAP_FLAG = '--initial-heap-size=64';
const WEB_DIR = path.join(ROOT, 'web');
const WEB_INDEX = path.join(WEB_DIR, 'dist/index.html');
// The tor-server lets transfers finish for 10 s by default; allow a little more before SIGKILL.
const STOP_TIMEOUT_MS = 15_000;
const START_TIMEOUT_MS = 30_000;
// Usage errors exit with 2, as the bins do.
const EXIT_USAGE = 2;
// Metrics are for a scraper on this machine: on 127.0.0.1 whatever --host says (README, Metrics).
const METRICS_HOST = '127.0.0.1';
const DEFAULT_TOR_METRICS_PORT = '9777';
const DEFAULT_GATEWAY_METRICS_PORT = '9778';
// Wildcard listen addresses, and the loopback address the gateway reaches the tor-server on then.
const LOOPBACK_FOR = { '0.0.0.0': '127.0.0.1', '::': '::1' };
/** Where both listen unless --host says otherwise: this machine only. */
const DEFAULT_HOST = '127.0.0.1';

const USAGE = `Usage: npm start -- [options]

Runs the tor-server and the gateway together; Ctrl-C stops both.

  --dir DIR            folder holding the files (default ./tor_files) [env TOR_DIR]
  --tor-port PORT      tor-server TCP port (default 7777; 0 picks a free one) [env TOR_PORT]
  --gateway-port PORT  gateway HTTP port (default 8080; 0 picks a free one) [env GATEWAY_PORT]
  --host HOST          address both listen on (default 127.0.0.1: this machine only; 0.0.0.0 for
                       every interface, once tokens are set up: README, Access control)
  --tor-metrics-port PORT
                       tor-server Prometheus metrics on 127.0.0.1 (default 9777; 0 picks a free one) [env TOR_METRICS_PORT]
  --gateway-metrics-port PORT
                       gateway Prometheus metrics on 127.0.0.1 (default 9778; 0 picks a free one) [env GATEWAY_METRICS_PORT]
  --help               show this help

Example: npm start -- --tor-port 7778 --gateway-port 8081 --dir ./my-files
`;

/** Reads the command line into the flags each child gets; exits 2 with the usage when it makes no sense. */
function parseOptions(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        dir: { type: 'string' },
        'tor-port': { type: 'string' },
        'gateway-port': { type: 'string' },
        host: { type: 'string' },
        'tor-metrics-port': { type: 'string' },
        'gateway-metrics-port': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    usageError(error.message);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const torArgs = [];
  const gatewayArgs = [];
  if (values.dir !== undefined) {
    if (values.dir === '') usageError('--dir needs a folder');
    // npm runs this script in the project folder; a relative --dir means the user's own folder.
    torArgs.push('--dir', path.resolve(process.env.INIT_CWD ?? process.cwd(), values.dir));
  }
  if (values['tor-port'] !== undefined) torArgs.push('--port', String(parsePort('--tor-port', values['tor-port'])));
  if (values['gateway-port'] !== undefined) gatewayArgs.push('--port', String(parsePort('--gateway-port', values['gateway-port'])));
  const torMetricsPort = values['tor-metrics-port'] ?? process.env.TOR_METRICS_PORT ?? DEFAULT_TOR_METRICS_PORT;
  const gatewayMetricsPort = values['gateway-metrics-port'] ?? process.env.GATEWAY_METRICS_PORT ?? DEFAULT_GATEWAY_METRICS_PORT;
  torArgs.push('--metrics-host', process.env.TOR_METRICS_HOST || METRICS_HOST, '--metrics-port', String(parsePort('--tor-metrics-port', torMetricsPort)));
  gatewayArgs.push('--metrics-host', process.env.GATEWAY_METRICS_HOST || METRICS_HOST, '--metrics-port', String(parsePort('--gateway-metrics-port', gatewayMetricsPort)));
  if (values.host === '') usageError('--host needs an address');
  // A first look stays on this machine: in open mode anyone who reaches the ports may upload.
  const host = values.host ?? DEFAULT_HOST;
  torArgs.push('--host', host);
  gatewayArgs.push('--host', host, '--tor-host', LOOPBACK_FOR[host] ?? host);
  return { torArgs, gatewayArgs, host, hostGiven: values.host !== undefined };
}

function parsePort(flag, text) {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) usageError(`${flag} must be a TCP port (0-65535), not "${text}"`);
  return port;
}

function usageError(message) {
  process.stderr.write(`npm start: ${message}\n\n${USAGE}`);
  process.exit(EXIT_USAGE);
}

/** The address to open in a browser for a gateway listening on `host`. */
function browserHost(host) {
  if (host === undefined || host in LOOPBACK_FOR) return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

const color = process.stdout.isTTY ? (code, text) => `\x1b[${code}m${text}\x1b[0m` : (_code, text) => text;
const say = (message) => process.stdout.write(`${freshLine()}${color('1', '[start]')} ${message}\n`);
const warn = (message) => process.stderr.write(`${freshLine()}${color('33', '[start]')} ${message}\n`);

/** Newest modification time of the files under `dir` (0 when it does not exist). */
function newestMtime(dir) {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, statSync(path.join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
  }
  return newest;
}

/** Runs `npm run build -w <workspace>` in the foreground; false when it failed. */
function build(workspace) {
  say(`building ${workspace}...`);
  const result = spawnSync('npm', ['run', 'build', '-w', workspace], { cwd: ROOT, stdio: 'inherit' });
  return result.status === 0;
}

function buildIfMissing() {
  for (const [workspace, output] of [['tor-server', TOR_SERVER_BUILT], ['gateway', GATEWAY_BUILT]]) {
    if (!existsSync(output) && !build(workspace)) {
      warn(`could not build ${workspace}; fix the errors above and run npm start again`);
      process.exit(1);
    }
  }
  const webScripts = JSON.parse(readFileSync(path.join(WEB_DIR, 'package.json'), 'utf8')).scripts ?? {};
  const sources = Math.max(newestMtime(path.join(WEB_DIR, 'src')), newestMtime(path.join(WEB_DIR, 'public')), mtimeOf(path.join(WEB_DIR, 'index.html')));
  const built = mtimeOf(WEB_INDEX);
  if (built !== 0 && built >= sources) return;
  if (!webScripts.build) {
    warn('the web workspace has no build script yet; the gateway will serve the API only');
  } else if (!build('web')) {
    warn('the web app failed to build; the gateway will say so at / until `npm run build -w web` succeeds');
  }
}

function mtimeOf(file) {
  return existsSync(file) ? statSync(file).mtimeMs : 0;
}

// Which stream last left a line unfinished (the tor-server console's prompt), so another
// stream's line starts on a fresh line instead of after the prompt.
let midLine = null;

function freshLine() {
  const newline = midLine ? '\n' : '';
  midLine = null;
  return newline;
}

/**
 * Copies a child's output to ours with a coloured prefix at the start of every line. For the
 * interactive console, cursor moves to a column (ESC [ n G, used by readline to redraw the
 * prompt) are shifted past the prefix so typing lands where it shows.
 */
function prefixed(stream, target, prefix, { console: isConsole = false } = {}) {
  const visible = prefix.replace(/\x1b\[[0-9;]*m/g, '').length + 1;
  let atLineStart = true;
  stream.setEncoding('utf8');
  stream.on('data', (text) => {
    let out = midLine && midLine !== stream ? '\n' : '';
    if (out) atLineStart = true;
    for (const piece of text.split(/(?<=\n)/)) {
      if (atLineStart) out += `${prefix} `;
      out += isConsole ? piece.replace(/\x1b\[(\d*)G/g, (_, n) => (Number(n || 1) === 1 ? `\x1b[1G${prefix} ` : `\x1b[${Number(n) + visible}G`)) : piece;
      atLineStart = piece.endsWith('\n');
    }
    midLine = atLineStart ? null : stream;
    target.write(out);
  });
}

/** Starts a child and resolves with the first stdout line matching `listening`. */
function startChild(name, prefix, args, { stdin, onLine }) {
  const interactive = stdin === 'inherit';
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: process.env,
    stdio: [stdin, 'pipe', 'pipe'],
    // A child that does not read the terminal gets its own process group, so a terminal Ctrl-C
    // reaches only this script, which then stops each child exactly once.
    detached: !interactive,
  });
  prefixed(child.stdout, process.stdout, prefix, { console: interactive });
  prefixed(child.stderr, process.stderr, prefix);
  let buffer = '';
  child.stdout.on('data', (text) => {
    buffer += text;
    let newline;
    while ((newline = buffer.indexOf('\n')) !== -1) {
      onLine(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
    }
  });
  child.name = name;
  return child;
}

/** Resolves with what the child's listening line says, once it prints it. */
function waitForListening(child, parseListening) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${child.name} did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    child.lineWaiters.push((line) => {
      const listening = parseListening(line);
      if (!listening) return false;
      clearTimeout(timer);
      resolve(listening);
      return true;
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${child.name} exited (${signal ?? `code ${code}`}) before it was listening`));
    });
  });
}

function spawnService(name, prefix, args, stdin) {
  const waiters = [];
  const child = startChild(name, prefix, args, {
    stdin,
    onLine: (line) => {
      const index = waiters.findIndex((waiter) => waiter(line));
      if (index !== -1) waiters.splice(index, 1);
    },
  });
  child.lineWaiters = waiters;
  return child;
}

const children = [];
let stopping = false;

/** Sends SIGTERM to every running child, waits for them, SIGKILLs stragglers, then exits. */
async function stopAll(exitCode, reason) {
  if (stopping) return;
  stopping = true;
  if (reason) (exitCode === 0 ? say : warn)(reason);
  const running = children.filter((child) => child.exitCode === null && child.signalCode === null);
  const exited = running.map((child) => new Promise((resolve) => child.once('exit', resolve)));
  for (const child of running) child.kill('SIGTERM');
  const timer = setTimeout(() => {
    for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, STOP_TIMEOUT_MS);
  await Promise.all(exited);
  clearTimeout(timer);
  process.exit(exitCode);
}

/** Names of the services still running besides `except`, as "the tor-server and the gateway". */
function runningNames(except) {
  const names = children.filter((c) => c !== except && c.exitCode === null && c.signalCode === null).map((c) => `the ${c.name}`);
  return names.join(' and ');
}

function watch(child) {
  child.once('exit', (code, signal) => {
    if (stopping) return;
    const others = runningNames(child);
    // Before the gateway starts there is nothing else to stop; say so instead of trailing off.
    const then = others ? `stopping ${others}` : 'nothing else was running';
    if (code === 0) {
      // The operator stopped it from its console (exit, or Ctrl-C while the console has the terminal).
      void stopAll(0, `${child.name} stopped; ${then}`);
    } else {
      void stopAll(1, `${child.name} died (${signal ?? `exit code ${code}`}); ${then}`);
    }
  });
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  buildIfMissing();
  // Imported only now: on a fresh clone the tor-server is built by the line above.
  const { parseListening, parseMetricsListening } = await import('tor-server/options');
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (stopping) {
        warn('forced stop: killing what was still running');
        for (const child of children) child.kill('SIGKILL');
        process.exit(1);
      }
      const running = runningNames();
      void stopAll(0, running ? `${signal}: stopping ${running}` : `${signal}: stopping`);
    });
  }
  // Last resort when this script exits some other way: no orphaned servers.
  process.on('exit', () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  // The tor-server gets the terminal, so its operator console (list, exit, ...) works here.
  const interactive = process.stdin.isTTY === true;
  const tor = spawnService('tor-server', color('36', '[tor-server]'), [TOR_SERVER_HEAP_FLAG, TOR_SERVER_BIN, ...options.torArgs], interactive ? 'inherit' : 'ignore');
  children.push(tor);
  watch(tor);
  const torMetrics = waitForListening(tor, parseMetricsListening);
  // A child that dies is reported by watch(); these are awaited only once both listen.
  torMetrics.catch(() => {});
  const { port: torPort } = await waitForListening(tor, parseListening);

  const gateway = spawnService('gateway', color('35', '[gateway]'), [GATEWAY_HEAP_FLAG, GATEWAY_BIN, ...options.gatewayArgs, '--tor-port', String(torPort)], 'ignore');
  children.push(gateway);
  watch(gateway);
  const gatewayMetrics = waitForListening(gateway, parseMetricsListening);
  gatewayMetrics.catch(() => {});
  const { port: gatewayPort } = await waitForListening(gateway, parseListening);
  say(`Prometheus metrics: tor-server ${(await torMetrics).url}, gateway ${(await gatewayMetrics).url}`);
  say(`open ${color('1;32', `http://${browserHost(options.hostGiven ? options.host : undefined)}:${gatewayPort}`)} in your browser${interactive ? ' (type help for the tor-server console)' : ''}`);
  if (options.host === DEFAULT_HOST) say('listening on this machine only (127.0.0.1), in open mode: for a first look. To share on a network, set up tokens and TLS (README, Access control and TLS), then npm start -- --host 0.0.0.0');
}

main().catch((error) => void stopAll(1, error.message));
