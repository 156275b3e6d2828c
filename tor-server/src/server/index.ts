export { TorServer, type TorServerEvents } from './server.js';
export { FsStore, TEMP_DIR_NAME } from './store/fs-store.js';
export { EMPTY_PARTIAL_TTL_MS, PARTIALS_DIR_NAME } from './partials/partial-store.js';
export { StoreError, type Store, type StoreErrorKind, type StoredFile, type Upload, type FileName } from './store/store.js';
export { FolderLockedError, LOCK_FILE_NAME } from './store/folder-lock.js';
export { OperatorConsole, CONSOLE_PROMPT, formatClientList, describeActivity, type ClientRow } from './console.js';
export { parseServerConfig, usage, ConfigError, DEFAULTS, SERVER_PROGRAM, type ServerConfig, type LogLevel } from './config.js';
export { createLogger, silentLogger, type Logger, type LogFields } from './logger.js';
export type { Connection, Activity } from './connection.js';
