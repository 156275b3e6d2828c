/**
 * The gateway's HTTP and WebSocket contract: paths, field names, statuses, message types and
 * JSON schemas. The web app imports it at runtime (`gateway/api`), so it must stay free of
 * Node-only code: it is bundled into the browser.
 */
export * from './paths.js';
export * from './fields.js';
export * from './status.js';
export * from './schemas.js';
export * from './messages.js';
export * from './auth.js';
export * from './tus.js';
