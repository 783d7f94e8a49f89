// The statistics of one campaign as a person reads them: pure, so it is tested on its own.
import { Badge, Group, Paper, SimpleGrid, Table, Text, Title } from "@mantine/core";
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { AbTestOut } from "../../client";
import { Empty } from "../../components/States";
import { when } from "../../format";
import { AbTests } from "./AbTests";

export type Breakdown = Record<string, { sent: number; replied: number; reply_rate: number }>;
export type Stats = Record<string, unknown> & {
  executions_by_status?: Record<string, number>;
  per_node?: Breakdown;
  per_variant?: Breakdown;
};
export type SeriesPoint = { at: string; sent: number; replied: number; read: number };
export type Activity = { id: number; executed_at: string; contact_name: string; username?: string | null; event_type: string; status: string; node_id?: string | null; message_text?: string | null };

export const METRICS: { key: string; label: string; rate?: boolean }[] = [
  { key: "total_contacts", label: "Total contacts" },
  { key: "contacts_started", label: "Started" },
  { key: "contacts_active", label: "Active" },
  { key: "contacts_completed", label: "Completed" },
  { key: "contacts_responded", label: "Responded" },
  { key: "contacts_failed", label: "Failed" },
  { key: "messages_sent", label: "Messages sent" },
  { key: "messages_delivered", label: "Delivered" },
  { key: "messages_failed", label: "Failed to send" },
  { key: "messages_not_sent", label: "Not sent yet" },
  { key: "messages_read", label: "Read" },
  { key: "completion_rate", label: "Completion rate", rate: true },
  { key: "response_rate", label: "Response rate", rate: true },
  { key: "delivery_rate", label: "Delivery rate", rate: true },
  { key: "read_rate", label: "Read rate", rate: true },
];

function BreakdownTable({ title, rows, first, winners }: { title: string; rows: Breakdown; first: string; winners: Set<string> }) {
  const entries = Object.entries(rows);
  return (
    <Paper withBorder p="md">
      <Title order={5} mb="xs">
        {title}
      </Title>
      {entries.length === 0 ? (
        <Empty>Nothing sent yet.</Empty>
      ) : (
        <Table data-testid={`table-${first}`}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{first}</Table.Th>
              <Table.Th>Sent</Table.Th>
              <Table.Th>Replied</Table.Th>
              <Table.Th>Reply rate</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {entries.map(([name, r]) => (
              <Table.Tr key={name}>
                <Table.Td>
                  {name}{" "}
                  {winners.has(name) ? (
                    <Badge color="green" size="sm">
                      A/B winner
                    </Badge>
                  ) : null}
                </Table.Td>
                <Table.Td>{r.sent}</Table.Td>
                <Table.Td>{r.replied}</Table.Td>
                <Table.Td>{r.reply_rate}%</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Paper>
  );
}

// An ab_split's winner is a node (the per-node table), a send's is a variant.
function winnersOf(tests: AbTestOut[], nodeType: string): Set<string> {
  return new Set(tests.flatMap((t) => (t.node_type === nodeType && t.decision ? [t.decision.winner] : [])));
}

export function StatisticsView({ stats, series, activities, abTests = [] }: { stats: Stats; series: SeriesPoint[]; activities: Activity[]; abTests?: AbTestOut[] }) {
  const byStatus = Object.entries(stats.executions_by_status ?? {}).map(([status, count]) => ({ status, count }));
  const points = series.map((p) => ({ ...p, label: new Date(p.at).toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }) }));
  return (
    <>
      <SimpleGrid cols={{ base: 2, sm: 3, lg: 5 }} mb="md">
        {METRICS.map((m) => (
          <Paper withBorder p="sm" key={m.key} data-testid={`metric-${m.key}`}>
            <Text size="xs" c="dimmed">
              {m.label}
            </Text>
            <Text fw={700} size="xl">
              {String(stats[m.key] ?? 0)}
              {m.rate ? "%" : ""}
            </Text>
          </Paper>
        ))}
      </SimpleGrid>
      <SimpleGrid cols={{ base: 1, md: 2 }} mb="md">
        <Paper withBorder p="md">
          <Title order={5} mb="xs">
            Executions by status
          </Title>
          {byStatus.length === 0 ? (
            <Empty>No executions yet.</Empty>
          ) : (
            <div style={{ height: 220 }} data-testid="chart-status">
              <ResponsiveContainer>
                <BarChart data={byStatus}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis dataKey="status" />
                  <YAxis allowDecimals={false} />
                  <Tooltip />
                  <Bar dataKey="count" fill="#228be6" isAnimationActive={false} />
                </BarChart>
              </ResponsiveContainer>
            </div>
          )}
        </Paper>
        <Paper withBorder p="md">
          <Title order={5} mb="xs">
            Sends, replies and reads over time
          </Title>
          {points.length === 0 ? (
            <Empty>No messages in the last 7 days.</Empty>
          ) : (
            <div style={{ height: 220 }} data-testid="chart-series">
              <ResponsiveContainer>
                <LineChart data={points}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis dataKey="label" />
                  <YAxis allowDecimals={false} />
                  <Tooltip />
                  <Legend />
                  <Line dataKey="sent" stroke="#40c057" isAnimationActive={false} />
                  <Line dataKey="replied" stroke="#12b886" isAnimationActive={false} />
                  <Line dataKey="read" stroke="#7950f2" isAnimationActive={false} />
                </LineChart>
              </ResponsiveContainer>
            </div>
          )}
        </Paper>
      </SimpleGrid>
      <SimpleGrid cols={{ base: 1, md: 2 }} mb="md">
        <BreakdownTable title="Per node" rows={stats.per_node ?? {}} first="Node" winners={winnersOf(abTests, "ab_split")} />
        <BreakdownTable title="Per variant" rows={stats.per_variant ?? {}} first="Variant" winners={winnersOf(abTests, "send_message")} />
      </SimpleGrid>
      {abTests.length > 0 ? <AbTests tests={abTests} /> : null}
      <Paper withBorder p="md">
        <Group justify="space-between">
          <Title order={5} mb="xs">
            Recent activities
          </Title>
          <Text size="xs" c="dimmed">
            last 20
          </Text>
        </Group>
        {activities.length === 0 ? (
          <Empty>No activity yet.</Empty>
        ) : (
          <Table data-testid="activities">
            <Table.Tbody>
              {activities.map((a) => (
                <Table.Tr key={a.id}>
                  <Table.Td>{when(a.executed_at)}</Table.Td>
                  <Table.Td>{a.contact_name || a.username}</Table.Td>
                  <Table.Td>{a.event_type}</Table.Td>
                  <Table.Td>{a.node_id ?? ""}</Table.Td>
                  <Table.Td>{a.message_text ?? ""}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Paper>
    </>
  );
}
