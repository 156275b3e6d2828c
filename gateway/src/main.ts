#!/usr/bin/env node
import { existsSync } from 'node:fs';
import type { Server as TlsServer } from 'node:tls';
import path from 'node:path';
import { Registry } from 'prom-client';
import type { ClientTls } from 'tor-server/client';
import {
  EXIT_FAILURE,
  MetricsListenError,
  TlsSetupError,
  gatewayListening,
  listenForMetrics,
  listenProblem,
  metricsListening,
  readCa,
  readTlsIdentity,
  replaceIdentity,
  settingsOrExit,
  stopOnSignals,
  type MetricsListener,
  type TlsIdentity,
} from 'tor-server/options';
import { buildApp, gatewayParts } from './app.js';
import { GATEWAY_PROGRAM, gatewayUsage, parseGatewayConfig } from './config.js';

// Run it as `node --initial-heap-size=64 bin/tor-gateway.js` (the bin's shebang, npm start, the image and compose do):
// every 64 KiB socket read is a new external buffer, and with V8's default small initial heap
// those push it into a mark-compact every few megabytes, which costs the gateway half of its
// download throughput. A larger initial heap only moves the GC limits; it does not raise RSS.

// After a signal, transfers in flight get this long before they are cut.
const SHUTDOWN_GRACE_MS = 5000;

/** Starts the gateway from flags and environment and stops it cleanly on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  const config = settingsOrExit(GATEWAY_PROGRAM, gatewayUsage(), () => parseGatewayConfig(process.argv.slice(2), process.env));
  if (config === undefined) return;

  let https: TlsIdentity | undefined;
  let torTls: ClientTls | undefined;
  try {
    if (config.tlsCert !== undefined && config.tlsKey !== undefined) https = readTlsIdentity(config.tlsCert, config.tlsKey);
    if (config.torCa !== undefined) torTls = { ca: readCa(config.torCa, '--tor-ca') };
    else if (config.torTls) torTls = {};
  } catch (error) {
    if (!(error instanceof TlsSetupError)) throw error;
    process.stderr.write(`${GATEWAY_PROGRAM}: ${error.message}\n`);
    process.exit(EXIT_FAILURE);
  }

  const metricsRegistry = new Registry();
  const app = buildApp({
    metricsRegistry,
    torHost: config.torHost,
    torPort: config.torPort,
    ...(torTls && { torTls }),
    ...(https && { https }),
    maxUploadSize: config.maxUploadSize,
    webDir: config.webDir,
    logLevel: config.logLevel,
    listenHost: config.host,
    allowedHosts: config.allowedHosts,
    allowedOrigins: config.allowedOrigins,
    upstreamPool: config.upstreamPool,
    maxUpstream: config.maxUpstream,
    maxTransfersPerAddress: config.maxTransfersPerAddress,
    maxWsPerAddress: config.maxWsPerAddress,
    maxWsSessions: config.maxWsSessions,
  });
  let metrics: MetricsListener | undefined;
  try {
    await app.listen({ host: config.host, port: config.port });
    // Its own listener, on 127.0.0.1 by default: no Host rule or route of the public port leads to it.
    if (config.metricsPort !== undefined) metrics = await listenForMetrics(metricsRegistry, { host: config.metricsHost, port: config.metricsPort });
  } catch (error) {
    if (error instanceof MetricsListenError) {
      process.stderr.write(`${GATEWAY_PROGRAM}: ${error.message}\n`);
      process.exit(EXIT_FAILURE);
    }
    const problem = listenProblem(error as NodeJS.ErrnoException, { host: config.host, port: config.port, accessHint: 'Choose a port above 1023 with --port.' });
    process.stderr.write(`${GATEWAY_PROGRAM}: ${problem}\n`);
    process.exit(EXIT_FAILURE);
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  process.stdout.write(`${gatewayListening({ host: config.host, port, torHost: config.torHost, torPort: config.torPort, ...(https && { https: true }) })}\n`);
  if (metrics) process.stdout.write(`${metricsListening(GATEWAY_PROGRAM, { host: metrics.address().address, port: metrics.address().port })}\n`);
  if (!existsSync(path.join(config.webDir, 'index.html'))) {
    process.stderr.write(`tor-gateway: no web app in ${config.webDir} yet; run \`npm run build -w web\` (the API works without it)\n`);
  }

  // With HTTPS, SIGHUP reads the certificate files again (a renewed certificate, no restart);
  // a pair that does not fit is logged and the old one keeps serving. Without it, SIGHUP stops as usual.
  if (https && config.tlsCert !== undefined && config.tlsKey !== undefined) {
    const { tlsCert, tlsKey } = config;
    process.on('SIGHUP', () => {
      try {
        replaceIdentity(app.server as unknown as TlsServer, readTlsIdentity(tlsCert, tlsKey));
        app.log.info({ cert: tlsCert }, 'tls certificate reloaded');
      } catch (error) {
        app.log.warn({ error: (error as Error).message }, 'tls certificate reload failed; the old one keeps serving');
      }
    });
  }

  stopOnSignals(GATEWAY_PROGRAM, (signal) => {
    app.log.info({ signal }, 'shutting down');
    // Cut transfers that outlive the grace period (the tor-server keeps nothing partial), and
    // the browsers' connections with them, even those that stopped reading.
    setTimeout(() => {
      app.log.info('shutdown grace over: cutting what is left');
      gatewayParts(app).upstream.destroyAll();
      app.server.closeAllConnections();
    }, SHUTDOWN_GRACE_MS).unref();
    return Promise.all([app.close(), metrics?.close()]).then(() => {});
  });
}

void main();
