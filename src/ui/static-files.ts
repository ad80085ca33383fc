import fs from 'node:fs';
import path from 'node:path';

/**
 * The page's bundle (dist/ui/: index.html and assets/, built by `npm run build`) as files to serve.
 * Pure but for reading the folder: a URL path maps to a file only when it stays inside that folder.
 */

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

export const contentTypeOf = (file: string): string =>
  TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';

/** The page's own files at the top of dist/ui/ (tsc's output of this server sits beside them: not served). */
const PAGE_FILES = new Set(['/index.html', '/app.js', '/app.css']);

/**
 * The file under `root` that `urlPath` names ("/" is index.html), or null when it is not one of the
 * page's files (index.html, app.js, app.css, anything under assets/) or would leave `root` (.., an
 * encoded ../, a backslash, a NUL, a dotfile).
 */
export function resolveStatic(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (!decoded.startsWith('/') || decoded.includes('\0') || decoded.includes('\\')) return null;
  if (decoded === '/') return path.join(root, 'index.html');
  if (decoded.split('/').some((part) => part.startsWith('.'))) return null;
  if (!PAGE_FILES.has(decoded) && !decoded.startsWith('/assets/')) return null;
  const base = path.resolve(root) + path.sep;
  const full = path.resolve(base, `.${decoded}`);
  return full.startsWith(base) ? full : null;
}

/** The page shown when the bundle was never built. */
export const NOT_BUILT_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>podwire ui — page not built</title></head>
<body><h1>The web view's page is not built</h1>
<p>dist/ui/ is missing. Run <code>npm run build</code> in the podwire checkout, then reload.</p>
<p>The API (<code>/api/topology</code>, <code>/api/events</code>) works without it.</p></body></html>
`;

/** A regular file's bytes, or null (missing, a folder, unreadable). */
export function readStatic(file: string): Buffer | null {
  try {
    if (!fs.statSync(file).isFile()) return null;
    return fs.readFileSync(file);
  } catch {
    return null;
  }
}
