import { EventEmitter } from 'node:events';

interface FileEventMap {
  /** An upload through this gateway was stored: listings may have changed. */
  'files-changed': [];
}

/** Tells every WebSocket session when an upload through this gateway completes. */
export class FileEvents extends EventEmitter<FileEventMap> {
  constructor() {
    super();
    // One listener per open WebSocket: hundreds are expected, not a leak.
    this.setMaxListeners(0);
  }

  /** Announces a stored upload. */
  filesChanged(): void {
    this.emit('files-changed');
  }
}
