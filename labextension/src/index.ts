/**
 * ainative's JupyterLab plugin: the Model menu, cell context menu and cell toolbar commands
 * (Export to ONNX, Export for serving, Show panel), and highlighting of %%model cells.
 * Menus and toolbar items are declared in schema/plugin.json; every command runs one line
 * of the Python API in the kernel, built from a validated model name.
 */

import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Dialog, InputDialog, Notification, showDialog } from '@jupyterlab/apputils';
import { EditorExtensionRegistry, IEditorExtensionRegistry } from '@jupyterlab/codemirror';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { INotebookTracker, NotebookActions, NotebookPanel } from '@jupyterlab/notebook';
import { Kernel, KernelMessage } from '@jupyterlab/services';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { downloadIcon, launchIcon, LabIcon } from '@jupyterlab/ui-components';
import { modelHighlighting } from './highlight';
import {
  ExportFormat,
  exportCode,
  existsError,
  isIdentifier,
  isModelCell,
  panelCode,
  parseModelHeader,
  parseModelList,
  writtenPaths
} from './model';

const PLUGIN_ID = 'ainative:plugin';

namespace CommandIDs {
  export const exportOnnx = 'ainative:export-onnx';
  export const exportServing = 'ainative:export-serving';
  export const showPanel = 'ainative:show-panel';
}

interface IRun {
  ok: boolean;
  out: string;
  err: string;
}

/** Run one line in the kernel without touching any cell, collecting what it prints. */
async function run(kernel: Kernel.IKernelConnection, code: string): Promise<IRun> {
  const future = kernel.requestExecute({ code, silent: false, store_history: false, allow_stdin: false });
  let out = '';
  let err = '';
  future.onIOPub = msg => {
    if (KernelMessage.isStreamMsg(msg)) {
      if (msg.content.name === 'stdout') {
        out += msg.content.text;
      } else {
        err += msg.content.text;
      }
    } else if (KernelMessage.isErrorMsg(msg)) {
      err += `${msg.content.ename}: ${msg.content.evalue}`;
    }
  };
  const reply = await future.done;
  return { ok: reply.content.status === 'ok', out, err };
}

function activeSource(tracker: INotebookTracker): string {
  return tracker.currentWidget?.content.activeCell?.model.sharedModel.getSource() ?? '';
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Model menu, cell toolbar and highlighting for ainative %%model cells.',
  autoStart: true,
  requires: [INotebookTracker, ISettingRegistry],
  optional: [IEditorExtensionRegistry, IDefaultFileBrowser],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    settings: ISettingRegistry,
    editorExtensions: IEditorExtensionRegistry | null,
    fileBrowser: IDefaultFileBrowser | null
  ) => {
    const kernelOf = (panel: NotebookPanel | null) => panel?.sessionContext.session?.kernel ?? null;

    /** The active cell's model, or one the user picks from the kernel's models. */
    const targetModel = async (): Promise<string | null> => {
      const panel = tracker.currentWidget;
      const kernel = kernelOf(panel);
      if (!panel || !kernel) {
        Notification.warning('Open a notebook with a running kernel and a %%model cell.', { autoClose: 5000 });
        return null;
      }
      const fromCell = parseModelHeader(activeSource(tracker));
      if (fromCell) {
        return fromCell;
      }
      const names = parseModelList((await run(kernel, '%models --json')).out);
      if (names.length === 0) {
        Notification.warning('No models in this kernel yet: run a %%model cell first.', { autoClose: 5000 });
        return null;
      }
      const choice = await InputDialog.getItem({ title: 'Which model?', items: names });
      return choice.button.accept && choice.value && isIdentifier(choice.value) ? choice.value : null;
    };

    const exportModel = async (format: ExportFormat) => {
      const name = await targetModel();
      const kernel = kernelOf(tracker.currentWidget);
      if (!name || !kernel) {
        return;
      }
      let result = await run(kernel, exportCode(name, format));
      if (!result.ok && existsError(result.err)) {
        const answer = await showDialog({
          title: 'Replace the existing export?',
          body: `${name} was exported here before. Replace those files?`,
          buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Replace' })]
        });
        if (!answer.button.accept) {
          return;
        }
        result = await run(kernel, exportCode(name, format, true));
      }
      if (result.ok) {
        const paths = writtenPaths(result.out);
        Notification.success(`Exported ${name} to ${paths.join(', ') || 'the notebook folder'}`, {
          autoClose: 10000
        });
        await fileBrowser?.model.refresh();
      } else {
        Notification.error(`Export of ${name} failed: ${result.err.trim()}`, { autoClose: false });
      }
    };

    const toolbarVisible = (args: { toolbar?: unknown }) => !args.toolbar || isModelCell(activeSource(tracker));
    const command = (id: string, label: string, icon: LabIcon, execute: () => Promise<void>) =>
      app.commands.addCommand(id, {
        label: args => (args.toolbar ? '' : label),
        caption: label,
        icon: args => (args.toolbar ? icon : undefined),
        isVisible: args => toolbarVisible(args as { toolbar?: unknown }),
        isEnabled: () => tracker.currentWidget !== null,
        execute
      });

    command(CommandIDs.exportOnnx, 'Export to ONNX', downloadIcon, () => exportModel('onnx'));
    command(CommandIDs.exportServing, 'Export for serving', downloadIcon, () => exportModel('serving'));
    command(CommandIDs.showPanel, 'Show panel', launchIcon, async () => {
      const name = await targetModel();
      const panel = tracker.currentWidget;
      if (!name || !panel) {
        return;
      }
      NotebookActions.insertBelow(panel.content);
      panel.content.activeCell?.model.sharedModel.setSource(panelCode(name));
      await NotebookActions.run(panel.content, panel.sessionContext);
    });

    editorExtensions?.addExtension({
      name: 'ainative:model-highlighting',
      factory: () => EditorExtensionRegistry.createImmutableExtension(modelHighlighting())
    });
    void settings.load(PLUGIN_ID);
  }
};

export default plugin;
