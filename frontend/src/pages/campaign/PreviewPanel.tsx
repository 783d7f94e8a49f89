import { Alert, Badge, Button, Group, NumberInput, Paper, SegmentedControl, Stack, Table, Text, TextInput, Textarea, Title } from "@mantine/core";
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { ApiError, errorSentence, previewLeadCampaignFlowsCampaignIdPreviewPost, unwrap, type CampaignOut, type PreviewIn, type PreviewOut } from "../../api";
import { when } from "../../format";

type Mode = "contact" | "inline";

/** Parse a JSON text field of the form, naming the field when it is not JSON. */
function parsed<T>(text: string, field: string, empty: T): T {
  if (!text.trim()) return empty;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new ApiError(422, `not valid JSON: ${(err as Error).message}`, field);
  }
}

/** What one lead would receive from this campaign, and when: a dry run, nothing is sent. */
export function PreviewPanel({ campaign }: { campaign: CampaignOut }) {
  const [mode, setMode] = useState<Mode>("inline");
  const [contactId, setContactId] = useState<number | string>("");
  const [firstName, setFirstName] = useState("");
  const [username, setUsername] = useState("");
  const [custom, setCustom] = useState("");
  const [replies, setReplies] = useState("");
  const run = useMutation({
    mutationFn: async () => {
      const body: PreviewIn = {
        replies: parsed(replies, "replies", []),
        ...(mode === "contact"
          ? { contact_id: Number(contactId) }
          : { contact: { first_name: firstName || null, username: username || null, custom_fields: parsed(custom, "contact.custom_fields", {}) } }),
      };
      return unwrap(previewLeadCampaignFlowsCampaignIdPreviewPost({ path: { campaign_id: campaign.id }, body }));
    },
  });
  return (
    <Paper withBorder p="md" data-testid="preview-panel">
      <Title order={4} mb="xs">
        Preview a lead
      </Title>
      <Text size="sm" c="dimmed" mb="xs">
        Walks one lead through the current flow without sending anything: the path, each text and when it would go under the delays, the sending window and the
        account&apos;s limits.
      </Text>
      <Stack gap="xs">
        <SegmentedControl
          value={mode}
          onChange={(v) => setMode(v as Mode)}
          data={[
            { value: "inline", label: "Fields" },
            { value: "contact", label: "Contact id" },
          ]}
        />
        {mode === "contact" ? (
          <NumberInput label="Contact id" min={1} value={contactId} onChange={setContactId} />
        ) : (
          <Group grow>
            <TextInput label="First name" value={firstName} onChange={(e) => setFirstName(e.currentTarget.value)} />
            <TextInput label="Username" value={username} onChange={(e) => setUsername(e.currentTarget.value)} />
            <TextInput label="Custom fields (JSON)" placeholder='{"city": "Oslo"}' value={custom} onChange={(e) => setCustom(e.currentTarget.value)} />
          </Group>
        )}
        <Textarea
          label="Simulated replies (JSON)"
          placeholder='[{"after_node": "hello", "text": "interested!", "after_seconds": 3600}]'
          autosize
          minRows={1}
          ff="monospace"
          value={replies}
          onChange={(e) => setReplies(e.currentTarget.value)}
        />
        <Group>
          <Button onClick={() => run.mutate()} loading={run.isPending} data-testid="preview-run">
            Preview
          </Button>
        </Group>
        {run.error ? (
          <Alert color="red" role="alert" data-testid="preview-error">
            {errorSentence(run.error)}
          </Alert>
        ) : null}
        {run.data ? <PreviewResult result={run.data} /> : null}
      </Stack>
    </Paper>
  );
}

export function PreviewResult({ result }: { result: PreviewOut }) {
  return (
    <Stack gap="xs" data-testid="preview-result">
      <Group gap="xs">
        <Badge color={result.outcome === "completed" ? "green" : result.outcome === "failed" ? "red" : "gray"}>{result.outcome}</Badge>
        <Text size="sm">ends {when(result.ended_at)}</Text>
        {result.error ? (
          <Text size="sm" c="red">
            {result.error}
          </Text>
        ) : null}
      </Group>
      {(result.notes ?? []).map((note) => (
        <Text key={note} size="sm" c="dimmed">
          {note}
        </Text>
      ))}
      <Table striped withTableBorder>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>When</Table.Th>
            <Table.Th>Node</Table.Th>
            <Table.Th>What happens</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {result.steps.map((step, i) => (
            <Table.Tr key={i} data-testid="preview-step">
              <Table.Td>{when(step.at)}</Table.Td>
              <Table.Td>
                {step.node_id} <Text span c="dimmed" size="xs">{step.node_type}</Text>
              </Table.Td>
              <Table.Td>
                {step.text ? <Text size="sm" style={{ whiteSpace: "pre-wrap" }}>{step.text}</Text> : null}
                {step.variant ? <Badge size="xs" variant="light">variant {step.variant}</Badge> : null}
                {step.label ? <Text size="xs">→ {step.label}</Text> : null}
                {step.waited_until ? <Text size="xs" c="dimmed">waits until {when(step.waited_until)}</Text> : null}
                {step.reply ? <Text size="xs">reply “{step.reply.text}” ({step.reply.category})</Text> : null}
                {(step.held ?? []).map((why) => (
                  <Text key={why} size="xs" c="orange">
                    held: {why}
                  </Text>
                ))}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {(result.unused_replies ?? []).length ? (
        <Text size="sm" c="dimmed">
          Replies never heard (the path does not reach their node): {(result.unused_replies ?? []).map((r) => r.after_node).join(", ")}
        </Text>
      ) : null}
    </Stack>
  );
}
