/**
 * Highlighting for %%model cells: a CodeMirror 6 view plugin that marks the notation's
 * keywords, operators, distributions, functions and comments, and only in editors whose
 * text starts with %%model (other cells keep their Python highlighting).
 */

import { Extension, RangeSetBuilder } from '@codemirror/state';
import { Decoration, DecorationSet, EditorView, ViewPlugin, ViewUpdate } from '@codemirror/view';
import { isModelCell } from './model';

const DISTRIBUTIONS =
  'Normal|HalfNormal|Cauchy|HalfCauchy|StudentT|LogNormal|Exponential|Gamma|InverseGamma|Beta|' +
  'Uniform|Bernoulli|Binomial|Poisson|Categorical|Dirichlet|MultivariateNormal|𝒩';
const FUNCTIONS =
  'exp|log1p|log|sqrt|abs|sin|cos|tanh|sigmoid|σ|relu|softplus|softmax|logsumexp|sum|mean|max|min|Σ';

/** One pattern, one class a group: the first group that matches names the token. */
export const TOKENS = new RegExp(
  [
    '(#.*$)',
    '(%%model\\b|--backend\\b|--latex\\b|--quiet\\b|\\bfor\\b|\\bin\\b|->|→)',
    '(~|∼|∈|ℝ|×|⊙|·|@|ᵀ|\\\\in\\b|\\\\sim\\b|\\\\mathbb\\{R\\})',
    `((?:${DISTRIBUTIONS})(?=\\s*\\())`,
    `((?:${FUNCTIONS})(?=\\s*\\(|\\s))`
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
