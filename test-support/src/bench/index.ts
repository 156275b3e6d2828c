/** What both benchmarks (tor-server/bench, gateway/bench) share. */
export { writeRandomFile } from './files.js';
export { crowd, interleaved } from './measure.js';
export { log, mbps, memoryRow, printTable, ratioRow, zeroRow, type Row } from './report.js';
export { tftcpDownload, tftcpUpload } from './tftcp.js';
