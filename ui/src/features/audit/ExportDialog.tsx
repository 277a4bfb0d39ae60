// Export: the audit trail as CSV or JSON text, built here from the loaded events
// (which never hold values). "Save file" asks the backend to write it into the
// Downloads folder (the webview drops Blob downloads); "Copy" works everywhere.

import { useMemo } from "react";
import { Button } from "../../components/Button";
import { Modal } from "../../components/Modal";
import { useToast } from "../../components/Toast";
import { eventsToCsv, eventsToJson, exportFileName } from "../../lib/auditExport";
import { copyText } from "../../lib/clipboard";
import { api, errorMessage } from "../../lib/ipc";
import type { AuditEvent } from "../../lib/types";

export function ExportDialog({
  kind,
  events,
  workspace,
  filtered,
  onClose,
}: {
  kind: "csv" | "json";
  events: AuditEvent[];
  workspace: string;
  filtered: boolean;
  onClose: () => void;
}) {
  const toast = useToast();
  const text = useMemo(() => (kind === "csv" ? eventsToCsv(events) : eventsToJson(events)), [kind, events]);
  const fileName = exportFileName(workspace, kind);

  return (
    <Modal
      title={`Export ${events.length} ${events.length === 1 ? "event" : "events"} as ${kind.toUpperCase()}`}
      description={
        filtered
          ? "The events that match the current filters, oldest first. Events carry names and metadata, never values."
          : "The whole trail of this workspace, oldest first. Events carry names and metadata, never values."
      }
      size="lg"
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Close</Button>
          <Button
            icon="copy"
            onClick={() =>
              copyText(text).then(
                () => toast(`Copied ${events.length} events as ${kind.toUpperCase()}`),
                (e: unknown) => toast(`Could not copy: ${errorMessage(e)}`, "danger"),
              )
            }
          >
            Copy
          </Button>
          <Button
            variant="primary"
            icon="download"
            onClick={() =>
              api.saveExport(fileName, text).then(
                (path) => toast(`Saved to ${path}`),
                (e: unknown) => toast(`Could not save: ${errorMessage(e)}`, "danger"),
              )
            }
          >
            Save file
          </Button>
        </>
      }
    >
      <textarea className="input mono export-preview" aria-label="Export preview" readOnly rows={14} value={text} />
      <p className="field-hint">
        File name: <code>{fileName}</code>
      </p>
    </Modal>
  );
}
