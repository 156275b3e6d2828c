export { TftcpClient, type ClientTls, type ConnectOptions, type TftcpConnectOptions, type SignedIn, type NewShare, type ShareInfo, type ShareRequest, type Incoming, type UploadOptions } from './tftcp-client.js';
export { ChangeWatch } from './change-watch.js';
export { TftcpError, TftcpReplyError, TftcpConnectionError, TftcpProtocolError, TftcpSizeMismatchError, refusalKind, type RefusalKind } from './errors.js';
export type { AccessLevel } from '../protocol/constants.js';
export type { ChangeEvent, FileChange } from '../protocol/changes.js';
export { TftcpIncompleteUploadError, TftcpChecksumMismatchError, type PartialUpload, type PutSource, type UploadDetails } from './resumable.js';
export type { ByteRange } from '../protocol/ranges.js';
