// The campaign's automatic A/B tests: each arm's numbers now, the winner once picked.
import { Badge, Paper, Table, Text, Title } from "@mantine/core";
import type { AbTestOut } from "../../client";
import { when } from "../../format";

const METRIC_LABELS: Record<string, string> = { reply_rate: "reply rate", read_rate: "read rate" };

function Verdict({ test }: { test: AbTestOut }) {
  const d = test.decision;
  if (!d) {
    return (
      <Text size="sm" c="dimmed" data-testid={`ab-pending-${test.node_id}`}>
        No winner yet: every arm needs {test.min_sample} leads, and the best must beat each other arm with {Math.round(test.confidence * 100)}% confidence.
      </Text>
    );
  }
  return (
    <Text size="sm" data-testid={`ab-verdict-${test.node_id}`}>
      <b>{d.winner}</b> won {when(d.decided_at)}: z = {d.z} against {d.runner_up} (needed {d.threshold}, p = {d.p_value}); new leads take it, leads already on a branch stay on it.
    </Text>
  );
}

export function AbTests({ tests }: { tests: AbTestOut[] }) {
  return (
    <Paper withBorder p="md" mb="md">
      <Title order={5} mb="xs">
        A/B tests (automatic winner)
      </Title>
      {tests.map((test) => {
        const arms = test.decision && test.arms.length === 0 ? test.decision.arms : test.arms;
        return (
          <div key={test.node_id} data-testid={`ab-test-${test.node_id}`}>
            <Text size="sm" fw={600}>
              Node {test.node_id} ({test.node_type}) · {METRIC_LABELS[test.metric] ?? test.metric}
            </Text>
            <Table mb="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{test.node_type === "ab_split" ? "Branch" : "Variant"}</Table.Th>
                  <Table.Th>Leads delivered</Table.Th>
                  <Table.Th>{test.metric === "read_rate" ? "Read" : "Replied"}</Table.Th>
                  <Table.Th>Rate</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {arms.map((arm) => (
                  <Table.Tr key={arm.name}>
                    <Table.Td>{arm.name}</Table.Td>
                    <Table.Td>{arm.exposed}</Table.Td>
                    <Table.Td>{arm.successes}</Table.Td>
                    <Table.Td>{arm.rate}%</Table.Td>
                    <Table.Td>{arm.winner ? <Badge color="green">winner</Badge> : null}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
            <Verdict test={test} />
          </div>
        );
      })}
    </Paper>
  );
}
