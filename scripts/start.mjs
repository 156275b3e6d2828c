#!/usr/bin/env node
// `npm start`: builds what is missing, then runs the tor-server and the gateway together with
// both logs on this terminal, prints the URL to open, and stops both on Ctrl-C or SIGTERM.
// Environment variables (TOR_PORT, GATEWAY_PORT, TOR_DIR, ...) pass through to both.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// The programs as built, and the bins that run them (the same ones the Docker image runs).
const TOR_SERVER_BUILT = path.join(ROOT, 'tor-server/dist/bin/tor-server.js');
const GATEWAY_BUILT = path.join(ROOT, 'gateway/dist/main.js');
const TOR_SERVER_BIN = path.join(ROOT, 'tor-server/bin/tor-server.js');
const GATEWAY_BIN = path.join(ROOT, 'gateway/bin/tor-gateway.js');
const WEB_DIR = path.join(ROOT, 'web');
const WEB_INDEX = path.join(WEB_DIR, 'dist/index.html');
// The tor-server lets transfers finish for 10 s by default; allow a little more before SIGKILL.
const STOP_TIMEOUT_MS = 15_000;
const START_TIMEOUT_MS = 30_000;

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

function waitForLine(child, pattern) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${child.name} did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    child.lineWaiters.push((line) => {
      const match = pattern.exec(line);
      if (!match) return false;
      clearTimeout(timer);
      resolve(match);
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

function watch(child) {
  child.once('exit', (code, signal) => {
    if (stopping) return;
    const other = children.filter((c) => c !== child).map((c) => c.name).join(' and ');
    if (code === 0) {
      // The operator stopped it from its console (exit, or Ctrl-C while the console has the terminal).
      void stopAll(0, `${child.name} stopped; stopping the ${other}`);
    } else {
      void stopAll(1, `${child.name} died (${signal ?? `exit code ${code}`}); stopping the ${other}`);
    }
  });
}

async function main() {
  buildIfMissing();
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (stopping) {
        warn('forced stop');
        for (const child of children) child.kill('SIGKILL');
        process.exit(1);
      }
      void stopAll(0, `${signal}: stopping the tor-server and the gateway`);
    });
  }
  // Last resort when this script exits some other way: no orphaned servers.
  process.on('exit', () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  // The tor-server gets the terminal, so its operator console (list, exit, ...) works here.
  const interactive = process.stdin.isTTY === true;
  const tor = spawnService('tor-server', color('36', '[tor-server]'), [TOR_SERVER_BIN], interactive ? 'inherit' : 'ignore');
  children.push(tor);
  watch(tor);
  const [, torPort] = await waitForLine(tor, /^tor-server listening on .+:(\d+), serving /);

  // The heap flag keeps V8 from garbage-collecting after every few MB of transfer (see gateway/src/main.ts).
  const gateway = spawnService('gateway', color('35', '[gateway]'), ['--initial-heap-size=64', GATEWAY_BIN, '--tor-port', torPort], 'ignore');
  children.push(gateway);
  watch(gateway);
  const [, gatewayPort] = await waitForLine(gateway, /^tor-gateway listening on http:\/\/.+:(\d+) /);
  say(`open ${color('1;32', `http://localhost:${gatewayPort}`)} in your browser${interactive ? ' (type help for the tor-server console)' : ''}`);
}

main().catch((error) => void stopAll(1, error.message));
