/**
 * A model's display in a notebook: the live panel while its kernel holds it, else the static view.
 *
 * A model's output carries the ipywidgets panel and, as HTML, its equations, graph and shapes
 * table. When the panel's widget state is gone (a saved notebook reopened, a restarted kernel),
 * ipywidgets would show "Error displaying widget: model not found"; this renderer shows the HTML
 * instead, and swaps in the live panel only once the widget manager has mounted it.
 */

import { IRenderMime, IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import { Panel } from '@lumino/widgets';

/** The mime type of a model's display (its data is the panel's widget view reference). */
export const MODEL_MIME = 'application/vnd.ainative.model+json';
const WIDGET_MIME = 'application/vnd.jupyter.widget-view+json';

export class ModelDisplay extends Panel implements IRenderMime.IRenderer {
  constructor(
    private readonly options: IRenderMime.IRendererOptions,
    private readonly registry: IRenderMimeRegistry
  ) {
    super();
    this.addClass('ainative-display');
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this._observer?.disconnect();
    while (this.widgets.length > 0) {
      this.widgets[0].dispose();
    }
    const fallback = this.registry.createRenderer('text/html');
    fallback.addClass('ainative-fallback');
    this.addWidget(fallback);
    await fallback.renderModel(new MimeModel({ data: { 'text/html': model.data['text/html'] }, trusted: model.trusted }));
    const widgets = this.registry.getFactory(WIDGET_MIME);
    if (!model.trusted || !widgets) {
      return;
    }
    const live = widgets.createRenderer({ ...this.options, mimeType: WIDGET_MIME });
    live.hide();
    this.addWidget(live);
    // The widget renderer mounts a view as a child element, and writes only text when the model is gone.
    this._observer = new MutationObserver(() => {
      if (live.node.firstElementChild) {
        this._observer?.disconnect();
        fallback.hide();
        live.show();
      }
    });
    this._observer.observe(live.node, { childList: true });
    void live.renderModel(
      new MimeModel({ data: { [WIDGET_MIME]: model.data[MODEL_MIME] }, trusted: true, metadata: model.metadata })
    );
  }

  dispose(): void {
    this._observer?.disconnect();
    super.dispose();
  }

  private _observer: MutationObserver | null = null;
}

/** The renderer factory for one notebook's registry, so the live panel comes from that notebook's widgets. */
export function modelDisplayFactory(registry: IRenderMimeRegistry): IRenderMime.IRendererFactory {
  return {
    safe: true,
    mimeTypes: [MODEL_MIME],
    createRenderer: options => new ModelDisplay(options, registry)
  };
}
