import { Alert, Button, Group, Select, Table, TextInput } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { download, errorSentence, logsCampaignFlowsCampaignIdLogsGet, unwrap, type CampaignOut } from "../../api";
import type { LogEvent, LogStatus, NodeType } from "../../client";
import { Empty, QueryState } from "../../components/States";
import { when } from "../../format";

const EVENT_TYPES: LogEvent[] = ["message_sent", "delivery_confirmed", "response_detected", "message_read", "campaign_activity", "deferred", "delay_started", "waiting_for_reply", "ab_winner"];
const NODE_TYPES: NodeType[] = ["start", "send_message", "delay", "wait_for_reply", "condition", "ab_split", "end"];
const STATUSES: LogStatus[] = ["sent", "delivered", "completed", "failed", "deferred", "waiting", "cancelled", "responded", "replied", "read", "opted_out", "skipped"];

type Filters = { event_type?: LogEvent; node_type?: NodeType; status?: LogStatus; search?: string; execution_id?: number };

function exportUrl(campaignId: number, filters: Filters, format: "csv" | "jsonl"): string {
  const params = new URLSearchParams({ format });
  for (const [k, v] of Object.entries(filters)) if (v !== undefined && v !== "") params.set(k, String(v));
  return `/campaign-flows/${campaignId}/logs?${params}`;
}

export function LogsTab({ campaign, org }: { campaign: CampaignOut; org: string }) {
  const [filters, setFilters] = useState<Filters>({});
  const [search, setSearch] = useState("");
  const [execution, setExecution] = useState("");
  const [cursors, setCursors] = useState<number[]>([]);
  const [downloadError, setDownloadError] = useState<unknown>(null);
  const cursor = cursors[cursors.length - 1];
  const logs = useQuery({
    queryKey: ["logs", org, campaign.id, filters, cursor],
    queryFn: () => unwrap(logsCampaignFlowsCampaignIdLogsGet({ path: { campaign_id: campaign.id }, query: { ...filters, cursor, limit: 50 } })),
  });
  const set = (patch: Filters) => {
    setCursors([]);
    setFilters((f) => ({ ...f, ...patch }));
  };
  const save = async (format: "csv" | "jsonl") => {
    setDownloadError(null);
    try {
      await download(exportUrl(campaign.id, filters, format), `campaign-${campaign.id}-logs.${format}`);
    } catch (err) {
      setDownloadError(err);
    }
  };
  return (
    <>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          set({ search: search || undefined, execution_id: execution ? Number(execution) : undefined });
        }}
      >
        <Group align="end" mb="md">
          <TextInput label="Search contact or message" value={search} onChange={(e) => setSearch(e.currentTarget.value)} />
          <TextInput label="Execution id" value={execution} onChange={(e) => setExecution(e.currentTarget.value.replace(/\D/g, ""))} w={110} />
          <Button type="submit" variant="default">
            Search
          </Button>
          <Select label="Event" clearable data={EVENT_TYPES} value={filters.event_type ?? null} onChange={(v) => set({ event_type: (v ?? undefined) as LogEvent | undefined })} w={180} />
          <Select label="Node type" clearable data={NODE_TYPES} value={filters.node_type ?? null} onChange={(v) => set({ node_type: (v ?? undefined) as NodeType | undefined })} w={160} />
          <Select label="Status" clearable data={STATUSES} value={filters.status ?? null} onChange={(v) => set({ status: (v ?? undefined) as LogStatus | undefined })} w={130} />
          <Button variant="light" onClick={() => save("csv")}>
            Download CSV
          </Button>
          <Button variant="light" onClick={() => save("jsonl")}>
            Download JSONL
          </Button>
        </Group>
      </form>
      {downloadError ? (
        <Alert color="red" mb="md" role="alert">
          {errorSentence(downloadError)}
        </Alert>
      ) : null}
      <QueryState query={logs} what="logs">
        {(page) =>
          page.items.length === 0 ? (
            <Empty>No log entries match.</Empty>
          ) : (
            <>
              <Table striped data-testid="logs-table">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Time</Table.Th>
                    <Table.Th>Contact</Table.Th>
                    <Table.Th>Execution</Table.Th>
                    <Table.Th>Node</Table.Th>
                    <Table.Th>Event</Table.Th>
                    <Table.Th>Status</Table.Th>
                    <Table.Th>Message</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {page.items.map((l) => (
                    <Table.Tr key={l.id}>
                      <Table.Td>{when(l.executed_at)}</Table.Td>
                      <Table.Td>{l.contact_name || l.username}</Table.Td>
                      <Table.Td>{l.execution_id}</Table.Td>
                      <Table.Td>
                        {l.node_id ?? ""} {l.node_type ? `(${l.node_type})` : ""}
                      </Table.Td>
                      <Table.Td>{l.event_type}</Table.Td>
                      <Table.Td>{l.status}</Table.Td>
                      <Table.Td>{l.message_text ?? ""}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
              <Group mt="md">
                <Button variant="default" disabled={cursors.length === 0} onClick={() => setCursors((c) => c.slice(0, -1))}>
                  Newer
                </Button>
                <Button variant="default" disabled={!page.next_cursor} onClick={() => setCursors((c) => [...c, Number(page.next_cursor)])}>
                  Older
                </Button>
              </Group>
            </>
          )
        }
      </QueryState>
    </>
  );
}
