/**
 * The Compare panel's HTML. Strict CSP: scripts only with this page's nonce, styles and fonts only
 * from the extension (no inline style attributes in markup), no eval, nothing remote.
 */
export interface PageUris {
  /** The webview's cspSource (the origin extension resources are served from). */
  cspSource: string;
  script: string;
  style: string;
  nonce: string;
}

export function contentSecurityPolicy(p: Pick<PageUris, 'cspSource' | 'nonce'>): string {
  return [
    "default-src 'none'",
    `img-src ${p.cspSource} data:`,
    `style-src ${p.cspSource}`,
    `font-src ${p.cspSource}`,
    `script-src 'nonce-${p.nonce}'`,
  ].join('; ');
}

export function comparePage(p: PageUris, title = 'Compare Runs'): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(p)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${p.style}">
<title>${title.replace(/[<>&"]/g, '')}</title>
</head>
<body>
<main id="app" aria-busy="true">Loading runs…</main>
<script nonce="${p.nonce}" src="${p.script}"></script>
</body>
</html>`;
}
