export * from './constants.js';
export * from './names.js';
export * from './printable.js';
export * from './command-line.js';
export * from './file-row.js';
export * from './line-reader.js';
export * from './write.js';
export * from './changes.js';
