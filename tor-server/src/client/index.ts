export { TftcpClient, type ConnectOptions, type Incoming, type UploadOptions } from './tftcp-client.js';
export { TftcpError, TftcpReplyError, TftcpConnectionError, TftcpProtocolError, TftcpSizeMismatchError, refusalKind, type RefusalKind } from './errors.js';
