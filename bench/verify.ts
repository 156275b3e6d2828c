/**
 * Before the timed rounds: every download path once, its bytes hashed and compared with the
 * file's, so a path that answers the right number of wrong bytes cannot pass. The timed rounds
 * then count bytes only (curl to /dev/null, as the issue names the rows).
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import { TftcpClient } from 'tor-server/client';
import { log } from 'test-support/bench';
import { BIG_FILE, type Stack } from './stack.js';

/** Throws naming the first path whose bytes differ from the file's. */
export async function verifyDownloads(stack: Stack): Promise<void> {
  log('checking that every download path returns the file\'s bytes (sha256, untimed)');
  const paths: [string, () => Promise<string>][] = [
    ['TFTCP download', () => tftcpHash(stack.tor.port)],
    ['gateway GET', () => httpHash(`${stack.gateway.url}/api/files/${BIG_FILE}`)],
  ];
  if (stack.nginx) paths.push(['nginx GET', () => httpHash(`http://127.0.0.1:${stack.nginx!.filePort}/${BIG_FILE}`)]);
  for (const [name, hash] of paths) {
    const got = await hash();
    if (got !== stack.sourceHash) throw new Error(`${name} returned other bytes than the file (sha256 ${got}, the file's ${stack.sourceHash})`);
  }
}

async function tftcpHash(port: number): Promise<string> {
  const client = await TftcpClient.connect({ host: '127.0.0.1', port });
  try {
    const { stream } = await client.download(BIG_FILE);
    const hash = createHash('sha256');
    for await (const chunk of stream) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } finally {
    await client.exit().catch(() => client.destroy());
  }
}

function httpHash(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (response) => {
        if (response.statusCode !== 200) return reject(new Error(`GET ${url} answered ${response.statusCode}`));
        const hash = createHash('sha256');
        response.on('data', (chunk: Buffer) => hash.update(chunk));
        response.on('end', () => resolve(hash.digest('hex')));
        response.on('error', reject);
      })
      .on('error', reject);
  });
}
