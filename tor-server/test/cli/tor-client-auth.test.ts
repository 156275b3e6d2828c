import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { scratchDir } from 'test-support';
import { SIGN_IN_FIRST } from '../../src/protocol/auth.js';
import { startAuthServer } from '../server/auth-helpers.js';
import { runClient } from './helpers.js';

const SHARE_TOKEN = /tft_[0-9a-f]{8}_[A-Za-z0-9_-]{43}/;

describe('tor-client with tokens', () => {
  it('--token and TOR_TOKEN sign in; none is refused with the server\'s words; a bad one is a clear error, status 1', async (t) => {
    const server = await startAuthServer(t);
    await fs.writeFile(path.join(server.dir, 'a.txt'), 'a');
    const token = await server.addToken('alice', 'read');
    const home = await scratchDir(t, 'tor-cli-auth-');
    const run = (args: string[], env: NodeJS.ProcessEnv = {}) => runClient(['--host', '127.0.0.1', '--port', String(server.port), ...args], { cwd: home, env });

    const withFlag = await run(['--tsv', '--token', token, 'show']);
    assert.equal(withFlag.code, 0, withFlag.stderr);
    assert.match(withFlag.stdout, /^a\.txt\t1\t/);
    const withEnv = await run(['--tsv', 'show'], { TOR_TOKEN: token });
    assert.equal(withEnv.code, 0, withEnv.stderr);

    const without = await run(['show']);
    assert.equal(without.code, 1);
    assert.equal(without.stderr, `${SIGN_IN_FIRST}\n`);

    const bad = await run(['--token', 'tft_00000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'show']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'Sign-in refused: Invalid token. Check the token (--token or TOR_TOKEN), or ask for a new one.\n');
  });

  it('auth at the prompt signs in; share makes, lists and revokes a link', async (t) => {
    const server = await startAuthServer(t);
    await fs.writeFile(path.join(server.dir, 'my file.txt'), 'hello');
    const token = await server.addToken('alice', 'write');
    const home = await scratchDir(t, 'tor-cli-auth-');
    const input = [`auth ${token}`, 'share "my file.txt" --expires 7d --max-downloads 2', 'share list', 'exit', ''].join('\n');
    const result = await runClient(['--host', '127.0.0.1', '--port', String(server.port)], { cwd: home, input });
    assert.match(result.stdout, /Signed in as alice \(write\)\n/);
    assert.match(result.stdout, /Share link for my file\.txt \(expires \d{4}-\S+Z, at most 2 downloads\); sign in with it to read that one file:\n/);
    const shareToken = SHARE_TOKEN.exec(result.stdout)![0];
    const id = shareToken.split('_')[1]!;
    assert.match(result.stdout, new RegExp(`${id}  my file\\.txt  expires \\S+  downloads 0/2\\n`));

    const download = await runClient(['--host', '127.0.0.1', '--port', String(server.port), '--token', shareToken, 'download', 'my file.txt'], { cwd: home });
    assert.equal(download.code, 0, download.stderr);
    assert.equal(await fs.readFile(path.join(home, 'tor-files', 'Downloads', 'my file.txt'), 'utf8'), 'hello');

    const revoke = await runClient(['--host', '127.0.0.1', '--port', String(server.port), '--token', token, 'share', 'revoke', id], { cwd: home });
    assert.equal(revoke.stdout, `Revoked share link ${id}\n`);
    const again = await runClient(['--host', '127.0.0.1', '--port', String(server.port), '--token', token, 'share', 'revoke', id], { cwd: home });
    assert.equal(again.code, 1);
    assert.equal(again.stderr, 'Not found file\n');
  });
});
