/**
 * Content-Security-Policy of the web app: its own scripts only, inline styles (Svelte
 * transitions set style attributes), media and previews from this origin, no framing.
 */
export const APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "frame-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Policy of every served file, PDFs included: even if a browser rendered one as a document,
 * `sandbox` gives it an opaque origin and no scripts, so it cannot act as the gateway's origin.
 * Only the app may frame it (for previews). Chromium's PDF viewer still renders a PDF under
 * this policy in the preview frame (it runs in its own extension frame, not in the sandboxed
 * document; web/test/e2e/preview.test.ts checks it), so PDFs need no weaker policy.
 */
export const FILE_CSP = "default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'; sandbox";

/** Headers every response carries unless a route set its own. */
export const DEFAULT_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': APP_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** Headers for a served file, which the app may show in a frame of its own. */
export const FILE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': FILE_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
};

/**
 * Strict-Transport-Security when the gateway serves HTTPS itself: browsers then refuse plain
 * HTTP to this host for a year. Not for subdomains, which may be other services.
 */
export const HSTS_HEADER = { 'strict-transport-security': 'max-age=31536000' } as const;

const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\]|::1)$/i;

/**
 * Whether an HTTPS answer for this host name carries HSTS: not for this machine's own names,
 * where a browser would then force HTTPS on every other local app for a year.
 */
export function sendsHsts(hostname: string): boolean {
  return !LOOPBACK_HOST.test(hostname);
}
