/**
 * Highlighting for %%model cells: a CodeMirror 6 view plugin that marks the notation's
 * keywords, operators, distributions, functions and comments, and only in editors whose
 * text starts with %%model (other cells keep their Python highlighting).
 */

import { Extension, RangeSetBuilder } from '@codemirror/state';
import { Decoration, DecorationSet, EditorView, ViewPlugin, ViewUpdate } from '@codemirror/view';
import { isModelCell } from './model';
import notation from './notation.json';

/** A regular expression alternation of literal spellings, longest first so none hides a longer one. */
function alternatives(spellings: string[]): string {
  return [...spellings]
    .sort((a, b) => b.length - a.length)
    .map(s => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('|');
}

/** A word that starts and ends on letters must stand alone; symbols need no boundary. */
function word(spellings: string[]): string {
  return `(?<![\\p{L}\\p{N}_])(?:${alternatives(spellings)})(?![\\p{L}\\p{N}_])`;
}

/** One pattern, one class a group: the first group that matches names the token. */
export const TOKENS = new RegExp(
  [
    '(#.*$)',
    `(${word(notation.keywords.filter(k => /^\w/.test(k)))}|${alternatives(notation.keywords.filter(k => !/^\w/.test(k)))})`,
    `(${alternatives(notation.operators)})`,
    `((?:${alternatives(notation.distributions)})(?=\\s*\\())`,
    `(${word(notation.functions)}(?=\\s*\\(|\\s))`
  ].join('|'),
  'gmu'
);

const CLASSES = ['comment', 'keyword', 'operator', 'distribution', 'function'].map(kind =>
  Decoration.mark({ class: `cm-ainative-${kind}` })
);

function decorate(view: EditorView): DecorationSet {
  const builder = new RangeSetBuilder<Decoration>();
  const text = view.state.doc.toString();
  if (!isModelCell(text)) {
    return builder.finish();
  }
  for (const match of text.matchAll(TOKENS)) {
    const group = match.slice(1).findIndex(value => value !== undefined);
    if (group >= 0 && match.index !== undefined && match[0].length > 0) {
      builder.add(match.index, match.index + match[0].length, CLASSES[group]);
    }
  }
  return builder.finish();
}

/** The CodeMirror extension that highlights a %%model cell. */
export function modelHighlighting(): Extension {
  return ViewPlugin.fromClass(
    class {
      decorations: DecorationSet;

      constructor(view: EditorView) {
        this.decorations = decorate(view);
      }

      update(update: ViewUpdate): void {
        if (update.docChanged) {
          this.decorations = decorate(update.view);
        }
      }
    },
    { decorations: plugin => plugin.decorations }
  );
}
