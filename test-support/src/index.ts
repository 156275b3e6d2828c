/** What every workspace's tests share; see the modules for each piece. */
export { makeCertificates, servedCertificate, type Certificates } from './certificates.js';
export { sha256, sha256File } from './hash.js';
export { parseListening, type GatewayListening, type Listening, type TorServerListening } from './listening.js';
export { accepts, freePort } from './ports.js';
export {
  GATEWAY_BIN,
  GATEWAY_SOURCE,
  GATEWAY_NODE_FLAGS,
  TOR_SERVER_NODE_FLAGS,
  START_MS,
  TOR_CLIENT_BIN,
  TOR_SERVER_BIN,
  runNode,
  spawnGateway,
  spawnNode,
  spawnTorServer,
  stopChild,
  type GatewayOptions,
  type GatewayProcess,
  type NodeOptions,
  type NodeProcess,
  type TorServerOptions,
  type TorServerProcess,
} from './processes.js';
export { memoryOf, openFds } from './proc-stats.js';
export { Scope, type Owner } from './scope.js';
export { scratchDir } from './scratch.js';
export { CutRelay } from './cut-relay.js';
export { pairWith } from './relay.js';
export { WAIT_MS, eventually, within } from './wait.js';
export { Scrape, scrape } from './metrics.js';
export { S3_SKIPPED, dropBucket, s3Bucket, s3Engine, type S3Engine } from './s3.js';
