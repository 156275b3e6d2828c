export { TorServer, type TorServerEvents } from './server.js';
export { Storage, TEMP_DIR_NAME } from './storage.js';
export { FolderLockedError, LOCK_FILE_NAME } from './folder-lock.js';
export { OperatorConsole, CONSOLE_PROMPT, formatClientList, describeActivity, type ClientRow } from './console.js';
export { parseServerConfig, parseByteSize, usage, ConfigError, DEFAULTS, type ServerConfig, type LogLevel } from './config.js';
export { createLogger, silentLogger, type Logger, type LogFields } from './logger.js';
export type { Connection, Activity } from './connection.js';
