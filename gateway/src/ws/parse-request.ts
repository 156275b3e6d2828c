import { searchTextProblem } from '../lib/names.js';
import { WS_MAX_MESSAGE_BYTES, type WsCommand, type WsRequest } from '../api/index.js';

/** A browser message read as a request, or the reason it is not one (with its id when it had one). */
export type ParsedRequest = { ok: true; request: WsRequest } | { ok: false; id: number | null; error: string };

const COMMANDS: readonly WsCommand[] = ['show', 'search', 'ping', 'since'];

/** Validates one WebSocket message against the request types of messages.ts. */
export function parseWsRequest(data: Buffer, isBinary: boolean): ParsedRequest {
  if (isBinary) return refuse(null, 'binary messages are not supported; send JSON text such as {"id": 1, "command": "show"}');
  if (data.length > WS_MAX_MESSAGE_BYTES) return refuse(null, `the message is ${data.length} bytes; the limit is ${WS_MAX_MESSAGE_BYTES} bytes`);
  let message: unknown;
  try {
    message = JSON.parse(data.toString('utf8'));
  } catch (error) {
    return refuse(null, `malformed JSON: ${(error as Error).message}`);
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    return refuse(null, 'a request is a JSON object such as {"id": 1, "command": "show"}');
  }
  const { id, command, text, seq } = message as Record<string, unknown>;
  if (typeof id !== 'number' || !Number.isFinite(id)) return refuse(null, 'the request needs a numeric "id"');
  if (command === 'show' || command === 'ping') return { ok: true, request: { id, command } };
  if (command === 'since') {
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return refuse(id, 'since needs a "seq": the seq of the last change applied');
    return { ok: true, request: { id, command, seq } };
  }
  if (command === 'search') {
    if (typeof text !== 'string') return refuse(id, 'search needs a "text" string');
    const problem = searchTextProblem(text);
    return problem ? refuse(id, problem) : { ok: true, request: { id, command, text } };
  }
  const shown = typeof command === 'string' ? `"${command.slice(0, 40)}"` : String(command);
  return refuse(id, `unknown command ${shown}; the commands are ${COMMANDS.join(', ')}`);
}

function refuse(id: number | null, error: string): ParsedRequest {
  return { ok: false, id, error };
}
