import { Badge, Code, Drawer, Stack, Table, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { explainLeadExecutionsExecutionIdGet, unwrap } from "../../api";
import { QueryState } from "../../components/States";
import { STATUS_COLORS, when } from "../../format";
import { REFRESH_MS } from "./CampaignPage";

function Line({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <Text size="sm">
      <Text span c="dimmed">
        {label}:{" "}
      </Text>
      {children}
    </Text>
  );
}

/** One lead as GET /executions/{id} explains it: database row, workflow state, newest logs. */
export function LeadDetail({ executionId, org, onClose }: { executionId: number | null; org: string; onClose: () => void }) {
  const lead = useQuery({
    queryKey: ["execution", org, executionId],
    queryFn: () => unwrap(explainLeadExecutionsExecutionIdGet({ path: { execution_id: executionId as number } })),
    enabled: executionId !== null,
    refetchInterval: REFRESH_MS,
  });
  return (
    <Drawer opened={executionId !== null} onClose={onClose} position="right" size="xl" title="Lead">
      {executionId === null ? null : (
        <QueryState query={lead} what="the lead">
          {(e) => (
            <Stack gap="xs" data-testid="lead-detail">
              <Title order={4}>
                {e.contact_name} {e.username ? <Text span c="dimmed">@{e.username}</Text> : null}
              </Title>
              <Line label="Status">
                <Badge color={STATUS_COLORS[e.status] ?? "gray"} data-testid="lead-status">
                  {e.status}
                </Badge>
              </Line>
              <Line label="Current node">
                <span data-testid="lead-node">{e.current_node_id ?? "—"}</span>
              </Line>
              {e.waiting_reason ? (
                <Line label="Waiting">
                  {e.waiting_reason}
                  {e.waiting_until ? ` until ${when(e.waiting_until)}` : ""}
                </Line>
              ) : null}
              <Line label="Started">{when(e.started_at)}</Line>
              <Line label="Completed">{when(e.completed_at)}</Line>
              {e.error_message ? <Line label="Error">{e.error_message}</Line> : null}
              <Line label="Workflow">{e.workflow_id}</Line>
              <Text size="sm" c="dimmed">
                Workflow state
              </Text>
              {e.workflow_state ? (
                <Code block data-testid="lead-workflow-state">
                  {JSON.stringify(e.workflow_state, null, 2)}
                </Code>
              ) : (
                <Text size="sm" data-testid="lead-workflow-state">
                  The workflow did not answer{e.workflow_error ? `: ${e.workflow_error}` : "."}
                </Text>
              )}
              <Text size="sm" c="dimmed">
                Last log entries
              </Text>
              <Table striped data-testid="lead-logs">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>When</Table.Th>
                    <Table.Th>Node</Table.Th>
                    <Table.Th>Event</Table.Th>
                    <Table.Th>Status</Table.Th>
                    <Table.Th>Message</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {e.last_logs.map((l) => (
                    <Table.Tr key={l.id}>
                      <Table.Td>{when(l.executed_at)}</Table.Td>
                      <Table.Td>{l.node_id ?? "—"}</Table.Td>
                      <Table.Td>{l.event_type}</Table.Td>
                      <Table.Td>{l.status}</Table.Td>
                      <Table.Td>{l.message_text ?? ""}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Stack>
          )}
        </QueryState>
      )}
    </Drawer>
  );
}
