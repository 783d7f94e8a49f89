// The scope's do-not-contact list: leads never messaged, added by hand or by an opt-out reply.
import { Alert, Badge, Button, Group, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useParams } from "@tanstack/react-router";
import { useState } from "react";
import {
  addDoNotContactDoNotContactPost,
  errorSentence,
  listDoNotContactDoNotContactGet,
  removeDoNotContactDoNotContactDelete,
  unwrap,
  type DoNotContactOut,
  type HandleIn,
} from "../api";
import { ConfirmButton } from "../components/Confirm";
import { Empty, QueryState } from "../components/States";
import { when } from "../format";

type Kind = DoNotContactOut["kind"];
const KINDS: { value: Kind; label: string }[] = [
  { value: "username", label: "Username" },
  { value: "phone", label: "Phone" },
  { value: "telegram_user_id", label: "Telegram user id" },
];

/** The API's body for one handle of the given kind. */
export function handleOf(kind: Kind, value: string): HandleIn {
  const v = value.trim();
  if (kind === "telegram_user_id") return { telegram_user_id: Number(v) };
  return kind === "phone" ? { phone: v } : { username: v };
}

export function DoNotContactPage() {
  const { org } = useParams({ from: "/o/$org/do-not-contact" });
  const queryClient = useQueryClient();
  const [kind, setKind] = useState<Kind>("username");
  const [value, setValue] = useState("");
  const [filterKind, setFilterKind] = useState<string | null>(null);
  const [source, setSource] = useState<string | null>(null);
  const [cursor, setCursor] = useState<number | undefined>(undefined);
  const list = useQuery({
    queryKey: ["dnc", org, filterKind, source, cursor],
    queryFn: () =>
      unwrap(
        listDoNotContactDoNotContactGet({
          query: { kind: (filterKind ?? undefined) as Kind | undefined, source: (source ?? undefined) as "manual" | "reply" | undefined, cursor, limit: 50 },
        }),
      ),
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["dnc", org] });
  const add = useMutation({
    mutationFn: () => unwrap(addDoNotContactDoNotContactPost({ body: { entries: [handleOf(kind, value)] } })),
    onSuccess: () => {
      setValue("");
      refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (row: DoNotContactOut) => unwrap(removeDoNotContactDoNotContactDelete({ body: { entries: [handleOf(row.kind, row.value)] } })),
    onSuccess: refresh,
  });
  const error = add.error ?? remove.error;
  return (
    <Stack>
      <Title order={2}>Do-not-contact list</Title>
      <Text size="sm" c="dimmed">
        No campaign in this space messages these leads; a listed lead's next send ends as opted out. Replies classified as opt-out are added here
        automatically (see Reply rules).
      </Text>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          add.mutate();
        }}
      >
        <Group align="end">
          <Select label="Kind" data={KINDS} value={kind} onChange={(v) => v && setKind(v as Kind)} allowDeselect={false} w={180} />
          <TextInput label="Value" placeholder={kind === "username" ? "@username" : kind === "phone" ? "+15550100" : "123456789"} value={value} onChange={(e) => setValue(e.currentTarget.value)} required w={260} />
          <Button type="submit" loading={add.isPending}>
            Add to the list
          </Button>
          {add.data ? (
            <Text size="sm" c="dimmed" data-testid="dnc-added">
              {add.data.added ? "Added." : "Already on the list."}
            </Text>
          ) : null}
        </Group>
      </form>
      {error ? (
        <Alert color="red" role="alert">
          {errorSentence(error)}
        </Alert>
      ) : null}
      <Group align="end">
        <Select label="Filter by kind" clearable data={KINDS} value={filterKind} onChange={(v) => { setCursor(undefined); setFilterKind(v); }} w={180} />
        <Select label="Source" clearable data={[{ value: "manual", label: "Added by hand" }, { value: "reply", label: "Opt-out reply" }]} value={source} onChange={(v) => { setCursor(undefined); setSource(v); }} w={180} />
      </Group>
      <QueryState query={list} what="the do-not-contact list">
        {(page) =>
          page.items.length === 0 ? (
            <Empty>{filterKind || source ? "No entries match these filters." : "The do-not-contact list is empty."}</Empty>
          ) : (
            <>
              <Table striped data-testid="dnc-table">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Kind</Table.Th>
                    <Table.Th>Value</Table.Th>
                    <Table.Th>Source</Table.Th>
                    <Table.Th>Added</Table.Th>
                    <Table.Th />
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {page.items.map((r) => (
                    <Table.Tr key={r.id} data-testid={`dnc-${r.value}`}>
                      <Table.Td>{KINDS.find((k) => k.value === r.kind)?.label ?? r.kind}</Table.Td>
                      <Table.Td>{r.kind === "username" ? `@${r.value}` : r.value}</Table.Td>
                      <Table.Td>
                        <Badge variant="light" color={r.source === "reply" ? "orange" : "gray"}>
                          {r.source === "reply" ? "opt-out reply" : "by hand"}
                        </Badge>
                      </Table.Td>
                      <Table.Td>{when(r.created_at)}</Table.Td>
                      <Table.Td>
                        <ConfirmButton
                          label="Remove"
                          variant="light"
                          color="red"
                          question={`Remove ${r.value} from the do-not-contact list? Campaigns may message this lead again.`}
                          onConfirm={() => remove.mutate(r)}
                        />
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
              <Group>
                <Button variant="default" disabled={cursor === undefined} onClick={() => setCursor(undefined)}>
                  First page
                </Button>
                <Button variant="default" disabled={!page.next_cursor} onClick={() => setCursor(Number(page.next_cursor))}>
                  Next page
                </Button>
              </Group>
            </>
          )
        }
      </QueryState>
    </Stack>
  );
}
