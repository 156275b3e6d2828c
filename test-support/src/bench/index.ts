/** What the benchmarks (bench/ at the root, tor-server/bench, gateway/bench) share. */
export { ClientProcess, type ClientJob } from './client-process.js';
export { writeRandomFile } from './files.js';
export { crowd, interleaved } from './measure.js';
export { NGINX, NGINX_MISSING, nginxAcceptingPuts, nginxInstalled, nginxRelaying, nginxServing, nginxVersion } from './nginx.js';
export { FOLDER_FILES, RANGE_BYTES, fillFolder, middleRange, percentile, rangeLatency } from './range.js';
export { rawBaseline, rawSocketDownload, rawSocketUpload } from './raw.js';
export { busyStartWarning, log, mbps, memoryRow, printTable, ratioRow, zeroRow, type Row } from './report.js';
export { tftcpDownload, tftcpUpload } from './tftcp.js';
export { cliDownload, cliUpload } from './tor-client.js';
