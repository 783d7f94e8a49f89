// How replies are classified: ordered rules of keywords and patterns per category.
import { ActionIcon, Alert, Badge, Button, Group, Paper, Select, Stack, Text, Textarea, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useParams } from "@tanstack/react-router";
import { useState } from "react";
import { errorSentence, getReplyRulesReplyRulesGet, putReplyRulesReplyRulesPut, unwrap, type ReplyCategory, type ReplyRuleIn } from "../api";
import { QueryState } from "../components/States";
import { useMe } from "../session";

const CATEGORIES: ReplyCategory[] = ["opt_out", "interested", "not_interested", "out_of_office", "other"];

/** Lines of a textarea as a list, blank lines dropped. */
export function linesOf(text: string, separator: RegExp = /\n/): string[] {
  return text
    .split(separator)
    .map((s) => s.trim())
    .filter(Boolean);
}

function RulesEditor({ initial, editable, org }: { initial: ReplyRuleIn[]; editable: boolean; org: string }) {
  const queryClient = useQueryClient();
  const [rules, setRules] = useState(initial.map((r) => ({ category: r.category, keywords: (r.keywords ?? []).join(", "), patterns: (r.patterns ?? []).join("\n") })));
  const save = useMutation({
    mutationFn: () =>
      unwrap(
        putReplyRulesReplyRulesPut({
          body: { rules: rules.map((r) => ({ category: r.category, keywords: linesOf(r.keywords, /[,\n]/), patterns: linesOf(r.patterns) })) },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["reply-rules", org] }),
  });
  const set = (i: number, patch: Partial<(typeof rules)[number]>) => setRules(rules.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const move = (i: number, by: number) => {
    const next = [...rules];
    const [row] = next.splice(i, 1);
    next.splice(i + by, 0, row);
    setRules(next);
  };
  return (
    <Stack>
      {rules.length === 0 ? <Text c="dimmed">No rules: every reply is classified “other”.</Text> : null}
      {rules.map((r, i) => (
        <Paper key={i} withBorder p="sm" data-testid={`rule-${i}`}>
          <Group align="start" wrap="nowrap">
            <Text fw={600} w={24}>
              {i + 1}.
            </Text>
            <Select label="Category" data={CATEGORIES} value={r.category} onChange={(v) => v && set(i, { category: v as ReplyCategory })} allowDeselect={false} disabled={!editable} w={170} />
            <Textarea label="Keywords (comma separated, whole words)" value={r.keywords} onChange={(e) => set(i, { keywords: e.currentTarget.value })} autosize minRows={2} disabled={!editable} style={{ flex: 1 }} />
            <Textarea label="Patterns (regular expressions, one a line)" value={r.patterns} onChange={(e) => set(i, { patterns: e.currentTarget.value })} autosize minRows={2} disabled={!editable} ff="monospace" style={{ flex: 1 }} />
            {editable ? (
              <Stack gap={4} mt={22}>
                <ActionIcon variant="default" aria-label={`Move rule ${i + 1} up`} disabled={i === 0} onClick={() => move(i, -1)}>
                  ↑
                </ActionIcon>
                <ActionIcon variant="default" aria-label={`Move rule ${i + 1} down`} disabled={i === rules.length - 1} onClick={() => move(i, 1)}>
                  ↓
                </ActionIcon>
                <ActionIcon variant="light" color="red" aria-label={`Delete rule ${i + 1}`} onClick={() => setRules(rules.filter((_, j) => j !== i))}>
                  ×
                </ActionIcon>
              </Stack>
            ) : null}
          </Group>
        </Paper>
      ))}
      {save.error ? (
        <Alert color="red" role="alert">
          {errorSentence(save.error)}
        </Alert>
      ) : null}
      {save.isSuccess ? <Alert color="green">Saved. New replies are classified with these rules.</Alert> : null}
      {editable ? (
        <Group>
          <Button variant="default" onClick={() => setRules([...rules, { category: "other", keywords: "", patterns: "" }])}>
            Add a rule
          </Button>
          <Button onClick={() => save.mutate()} loading={save.isPending}>
            Save rules
          </Button>
        </Group>
      ) : (
        <Text size="sm" c="dimmed">
          Only owners and admins change the organization's reply rules.
        </Text>
      )}
    </Stack>
  );
}

export function ReplyRulesPage() {
  const { org } = useParams({ from: "/o/$org/reply-rules" });
  const me = useMe();
  const rules = useQuery({ queryKey: ["reply-rules", org], queryFn: () => unwrap(getReplyRulesReplyRulesGet()) });
  const membership = me.data?.organizations.find((o) => String(o.organization_id) === org);
  const editable = org === "personal" || Boolean(membership?.can_manage_settings);
  return (
    <Stack>
      <Group>
        <Title order={2}>Reply rules</Title>
        {rules.data?.default ? <Badge variant="light">built-in rules</Badge> : null}
      </Group>
      <Text size="sm" c="dimmed">
        Each incoming reply gets the category of the first rule it matches, or “other”. An opt-out reply puts the lead on the do-not-contact list.
      </Text>
      <QueryState query={rules} what="reply rules">
        {(data) => <RulesEditor key={JSON.stringify(data.rules)} initial={data.rules} editable={editable} org={org} />}
      </QueryState>
    </Stack>
  );
}
