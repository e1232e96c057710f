// A notebook snapshot as text to read: its cells in the percent format (`# %%`), outputs left out.

export interface NotebookText {
  text: string;
  /** The kernel's language (a VS Code language id), python when the notebook does not say. */
  language: string;
}

interface Cell {
  cell_type?: unknown;
  source?: unknown;
  execution_count?: unknown;
}

/**
 * The cells of an .ipynb (nbformat 4) as one script: `# %%` before each code cell (with its
 * execution count when it ran), `# %% [markdown]` before markdown and raw cells, whose lines are
 * commented. Text that is not such a notebook is returned as it is.
 */
export function notebookText(ipynb: string, title?: string): NotebookText {
  let nb: { cells?: unknown; metadata?: { language_info?: { name?: unknown }; kernelspec?: { language?: unknown } } };
  try {
    nb = JSON.parse(ipynb) as typeof nb;
  } catch {
    return { text: ipynb, language: 'json' };
  }
  if (typeof nb !== 'object' || nb === null || !Array.isArray(nb.cells)) return { text: ipynb, language: 'json' };
  const lang = nb.metadata?.language_info?.name ?? nb.metadata?.kernelspec?.language;
  const out: string[] = title ? [`# ${title}`, ''] : [];
  for (const cell of nb.cells as Cell[]) {
    const source = Array.isArray(cell?.source) ? cell.source.filter((s) => typeof s === 'string').join('') : typeof cell?.source === 'string' ? cell.source : '';
    if (cell?.cell_type === 'code') {
      out.push(typeof cell.execution_count === 'number' ? `# %% In [${cell.execution_count}]` : '# %%', source, '');
    } else {
      out.push(`# %% [${cell?.cell_type === 'raw' ? 'raw' : 'markdown'}]`, ...source.split('\n').map((l) => (l ? `# ${l}` : '#')), '');
    }
  }
  return { text: out.join('\n'), language: typeof lang === 'string' && /^[a-z][\w+-]*$/i.test(lang) ? lang.toLowerCase() : 'python' };
}
