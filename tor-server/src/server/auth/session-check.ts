import { SHARE_USED_UP, SIGN_IN_FIRST, TOKEN_EXPIRED, TOKEN_REVOKED } from '../../protocol/auth.js';
import type { Session } from '../commands/command.js';
import type { Authority, SessionProblem } from './authority.js';

const SESSION_PROBLEM_REPLIES: Record<SessionProblem, string> = { revoked: TOKEN_REVOKED, expired: TOKEN_EXPIRED, 'used up': SHARE_USED_UP };

/**
 * What a command meets as it starts, before its level is checked: nothing (undefined), the
 * refusal of a connection not signed in to a server that requires it, or the refusal of a
 * session whose token was revoked, expired or used up since (`signOut`: the session ends).
 */
export function sessionCheck(session: Session | undefined, auth: Authority): { reply: string; signOut?: SessionProblem } | undefined {
  if (!session) return auth.required ? { reply: SIGN_IN_FIRST } : undefined;
  const problem = auth.sessionProblem(session.id);
  return problem === undefined ? undefined : { reply: SESSION_PROBLEM_REPLIES[problem], signOut: problem };
}
