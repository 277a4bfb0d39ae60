// Export: the audit trail as CSV or JSON, previewed here from the loaded events
// (which never hold values); "Copy" puts that text on the clipboard. "Save file" asks
// the backend to read the same events (same workspace and filter) and write them into
// the Downloads folder itself: it writes nothing the webview hands it, and it audits
// the export.

import { useMemo } from "react";
import { Button } from "../../components/Button";
import { Modal } from "../../components/Modal";
import { useToast } from "../../components/Toast";
import { eventsToCsv, eventsToJson, exportFileName } from "../../lib/auditExport";
import { copyText } from "../../lib/clipboard";
import { api, errorMessage } from "../../lib/ipc";
import type { AuditEvent, AuditFilter } from "../../lib/types";

export function ExportDialog({
  kind,
  events,
  workspace,
  filter,
  filtered,
  onClose,
}: {
  kind: "csv" | "json";
  events: AuditEvent[];
  workspace: string;
  filter: AuditFilter;
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
              api.saveAuditEvents(workspace, filter, kind).then(
                (saved) => toast(`Saved ${saved.events} ${saved.events === 1 ? "event" : "events"} to ${saved.path}`),
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
