import assert from 'node:assert/strict';
import { readFile, stat, writeFile, symlink } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { WAIT_MS, scratchDir, within } from 'test-support';
import { openModeWarning } from '../../src/server/auth/state-dir.js';
import { TOKEN_FILE_NAME, TokenFile } from '../../src/server/auth/token-file.js';
import { TorServer } from '../../src/server/index.js';
import { LineClient, memoryLogger, runBin } from '../helpers.js';
import { startAuthServer } from './auth-helpers.js';

const TOKEN = /tft_[0-9a-f]{8}_[A-Za-z0-9_-]{43}/;

describe('tor-server token', () => {
  it('add prints the token once; the file keeps only its hash, owner-only; list shows no secret; revoke by label or id', async (t) => {
    const stateDir = path.join(await scratchDir(t, 'tor-state-'), 'state');
    const bin = (...args: string[]) => runBin(t, [...args, '--state-dir', stateDir]);
    const added = await bin('token', 'add', 'alice', '--access', 'admin', '--expires', '30d');
    assert.equal(added.code, 0, added.stderr);
    const [heading, token, warning, where] = added.stdout.trimEnd().split('\n');
    assert.equal(where, `Kept (as a hash) in ${path.join(stateDir, TOKEN_FILE_NAME)}: the tor-server that uses it runs with --state-dir ${stateDir}.`);
    assert.match(heading!, /^Token [0-9a-f]{8} for alice \(admin, expires \d{4}-\d\d-\d\dT[\d:.]+Z\):$/);
    assert.match(token!, new RegExp(`^${TOKEN.source}$`));
    assert.equal(warning, 'This token will not be shown again: copy it now.');
    const secret = token!.split('_').slice(2).join('_');

    const file = path.join(stateDir, TOKEN_FILE_NAME);
    const text = await readFile(file, 'utf8');
    assert.ok(!text.includes(secret), 'the token file holds no secret');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(stateDir)).mode & 0o777, 0o700);

    const bob = await bin('token', 'add', 'bob', '--access', 'read', '--only', 'a b.txt');
    assert.equal(bob.code, 0, bob.stderr);
    const list = await bin('token', 'list');
    assert.equal(list.code, 0);
    assert.doesNotMatch(list.stdout, TOKEN);
    const [header, ...rows] = list.stdout.trimEnd().split('\n');
    assert.match(header!, /^ID\s+LABEL\s+ACCESS\s+EXPIRES\s+ONLY$/);
    assert.match(rows[0]!, /^[0-9a-f]{8}\s+alice\s+admin\s+\d{4}-\S+Z\s+-$/);
    assert.match(rows[1]!, /^([0-9a-f]{8})\s+bob\s+read\s+never\s+a b\.txt$/);

    const bobId = /^([0-9a-f]{8})/.exec(rows[1]!)![1]!;
    assert.equal((await bin('token', 'revoke', 'alice')).stdout, `Revoked token ${token!.split('_')[1]} (alice)\n`);
    assert.equal((await bin('token', 'revoke', bobId)).stdout, `Revoked token ${bobId} (bob)\n`);
    const again = await bin('token', 'revoke', 'alice');
    assert.equal(again.code, 1);
    assert.equal(again.stderr, 'Could not revoke token: no token with the id or label alice\n');
  });

  it('refuses a taken label, a bad label, a missing --access and a bad duration', async (t) => {
    const stateDir = path.join(await scratchDir(t, 'tor-state-'), 'state');
    const bin = (...args: string[]) => runBin(t, [...args, '--state-dir', stateDir]);
    assert.equal((await bin('token', 'add', 'alice', '--access', 'read')).code, 0);
    const cases: Array<[string[], RegExp]> = [
      [['token', 'add', 'alice', '--access', 'read'], /a token labelled alice exists already/],
      [['token', 'add', 'two words', '--access', 'read'], /is not a valid label/],
      [['token', 'add', 'carol'], /token add needs --access read\|write\|admin/],
      [['token', 'add', 'carol', '--access', 'read', '--expires', '30 days'], /--expires "30 days" is not a duration such as 90m, 12h or 30d/],
      [['token', 'frobnicate'], /Usage:/],
    ];
    for (const [args, message] of cases) {
      const result = await bin(...args);
      assert.equal(result.code, 1, args.join(' '));
      assert.match(result.stderr, message);
    }
  });

  it('a server refuses a state folder inside the folder it serves', async (t) => {
    const dir = await scratchDir(t, 'tor-served-');
    const result = await runBin(t, ['--port', '0', '--host', '127.0.0.1', '--dir', dir, '--state-dir', path.join(dir, 'state')]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^tor-server: --state-dir \(TOR_STATE_DIR\): .*\/state is inside the served folder .*; choose a folder outside it/);
  });

  it('a symlink cannot smuggle the state folder into the served folder, nor the served folder around it', async (t) => {
    const dir = await scratchDir(t, 'tor-served-');
    const outside = await scratchDir(t, 'tor-links-');
    // The state folder named through a link to the served folder.
    await symlink(dir, path.join(outside, 'served-link'));
    const viaLink = await runBin(t, ['--port', '0', '--host', '127.0.0.1', '--dir', dir, '--state-dir', path.join(outside, 'served-link')]);
    assert.equal(viaLink.code, 1);
    assert.match(viaLink.stderr, /is inside the served folder/);
    // The served folder named through a link, the state folder inside its real path.
    const servedLink = path.join(outside, 'dir-link');
    await symlink(dir, servedLink);
    const viaServedLink = await runBin(t, ['--port', '0', '--host', '127.0.0.1', '--dir', servedLink, '--state-dir', path.join(dir, 'state')]);
    assert.equal(viaServedLink.code, 1);
    assert.match(viaServedLink.stderr, /is inside the served folder/);
  });
});

describe('the token file', () => {
  it('takes many changes at once from one process without losing any (share counts finishing together)', async (t) => {
    const file = new TokenFile(path.join(await scratchDir(t, 'tor-state-'), 'state'));
    await file.update((tokens) => void tokens.push({ id: 'aaaaaaaa', label: 'link', access: 'read', hash: '0'.repeat(64), created: new Date().toISOString(), expires: null, only: 'a.bin', kind: 'share', maxDownloads: null, downloads: 0, createdBy: null }));
    await within(Promise.all(Array.from({ length: 50 }, () => file.update((tokens) => void tokens[0]!.downloads++))), WAIT_MS, '50 updates');
    assert.equal((await file.read())[0]!.downloads, 50);
  });
});

describe('open mode', () => {
  it('warns once at start-up when listening beyond loopback without tokens', async (t) => {
    const log = memoryLogger('warn');
    const dir = await scratchDir(t, 'tor-open-');
    const server = await TorServer.start({ host: '0.0.0.0', port: 0, dir, stateDir: path.join(dir, '..', `${path.basename(dir)}-state`), logger: log.logger });
    t.after(() => within(server.close(0), WAIT_MS, 'server.close()'));
    assert.match(log.text(), /warn open-access host=0\.0\.0\.0 access=write note="anyone who can reach this port has write access; create a token with \\"tor-server token add <label> --access admin\\" to require sign-in \(or --auth required\)"\n$/);
    assert.equal(openModeWarning('127.0.0.1', 'write', false), undefined);
    assert.equal(openModeWarning('0.0.0.0', 'write', true), undefined);
  });

  it('says nothing on loopback, and TFTCP/1 exchanges are as before', async (t) => {
    const log = memoryLogger('warn');
    const server = await startAuthServer(t, { logger: log.logger });
    assert.equal(log.text(), '');
    const client = await LineClient.connect(t, server.port);
    assert.deepEqual([await client.request('show'), await client.line()], ['ok', 'end']);
  });
});

describe('an unreadable token file', () => {
  it('stops the start rather than opening the server', async (t) => {
    const dir = await scratchDir(t, 'tor-served-');
    const stateDir = await scratchDir(t, 'tor-state-');
    await writeFile(path.join(stateDir, TOKEN_FILE_NAME), '{"format": 1, "tokens": [');
    const result = await runBin(t, ['--port', '0', '--host', '127.0.0.1', '--dir', dir, '--state-dir', stateDir]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /tokens\.json is not valid JSON .*; restore it from a backup, or remove it to start without tokens\n$/);
  });
});
