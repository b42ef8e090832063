/**
 * Highlighting for %%model cells: a CodeMirror 6 view plugin that marks the notation's
 * keywords, operators, distributions, functions, indices and comments, and only in editors whose
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

/** A head whose subscript is an index (Σ, mean, \sum, δ): one that starts on a letter is no part of a longer name. */
function head(spellings: string[]): string {
  return `(?:(?<![\\p{L}\\p{N}_])|(?!\\p{L}))(?:${alternatives(spellings)})`;
}

/** Braces that may hold one level of braces more (`{\text{county}_i}`). */
const BRACED = '\\{(?:[^{}\\n]|\\{[^{}\\n]*\\})*\\}';
/** What follows a reduction or δ as its index, as the lexer reads it: braced, a command, a word, Unicode subscripts. */
const SUBSCRIPT = `(?:_(?:${BRACED}|\\\\[A-Za-z]+|\\p{L}[\\p{L}\\p{N}]*)|[${notation.subscripts}]+)`;
/** The upper end of a range after the subscript: `^{J}` in `Σ_{j=1}^{J}`. */
const SUPERSCRIPT = `\\^(?:${BRACED}|\\\\[A-Za-z]+|[\\p{L}\\p{N}]+)`;
/** The end of a name that an explicit subscript follows: `x_{t-1}`, `x̂[i]`, `\mathbf{x}_{t-1}`. */
const NAME_END = '[\\p{L}\\p{N}\\p{M}′″}]';
/** Braces the lexer reads as part of a name (`h_{out}`, `W_{ij}`): letters and digits, or one command. */
const PLAIN = '\\s*(?:[\\p{L}\\p{N}]+|\\\\[A-Za-z]+)\\s*\\}';
const REDUCTION = head(notation.reductions);
const DELTA = head(notation.delta);

/** One pattern, one class a group: the first group that matches names the token. */
export const TOKENS = new RegExp(
  [
    '(#.*$)',
    `(${word(notation.keywords.filter(k => /^\w/.test(k)))}|${alternatives(notation.keywords.filter(k => !/^\w/.test(k)))})`,
    `(${alternatives(notation.operators)})`,
    `((?:${alternatives(notation.distributions)})(?=\\s*\\())`,
    `(${word(notation.functions)}(?=\\s*\\(|\\s))`,
    `(${REDUCTION}(?=${SUBSCRIPT})|${DELTA}(?=${SUBSCRIPT}|\\[))`,
    `((?<=${REDUCTION})${SUBSCRIPT}(?:${SUPERSCRIPT})?|(?<=${DELTA})${SUBSCRIPT})`,
    `((?<=${NAME_END}_\\{)(?!${PLAIN})(?:[^{}\\n]|\\{[^{}\\n]*\\})+(?=\\})|(?<=${NAME_END}\\[)(?:[^\\[\\]\\n]|\\[[^\\[\\]\\n]*\\])+(?=\\]))`
  ].join('|'),
  'gmu'
);

/** Each group's class: a reduction's word or δ is a function; its subscript, and an explicit subscript's indices, an index. */
export const CLASSES = ['comment', 'keyword', 'operator', 'distribution', 'function', 'function', 'index', 'index'].map(
  kind => `cm-ainative-${kind}`
);
const MARKS = CLASSES.map(name => Decoration.mark({ class: name }));

function decorate(view: EditorView): DecorationSet {
  const builder = new RangeSetBuilder<Decoration>();
  const text = view.state.doc.toString();
  if (!isModelCell(text)) {
    return builder.finish();
  }
  for (const match of text.matchAll(TOKENS)) {
    const group = match.slice(1).findIndex(value => value !== undefined);
    if (group >= 0 && match.index !== undefined && match[0].length > 0) {
      builder.add(match.index, match.index + match[0].length, MARKS[group]);
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
