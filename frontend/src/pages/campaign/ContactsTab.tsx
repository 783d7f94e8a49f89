import { Alert, Badge, Button, Group, MultiSelect, Select, Stack, Table, Text, TextInput } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import {
  addCampaignContactsCampaignFlowsCampaignIdContactsPost,
  campaignAllowedActionsCampaignFlowsCampaignIdAllowedActionsGet,
  errorSentence,
  listCampaignContactsCampaignFlowsCampaignIdContactsGet,
  listContactsContactsGet,
  removeCampaignContactsCampaignFlowsCampaignIdContactsDelete,
  unwrap,
  type CampaignContactOut,
  type CampaignOut,
} from "../../api";
import type { ExecutionStatus } from "../../client";
import { ConfirmButton } from "../../components/Confirm";
import { Empty, QueryState } from "../../components/States";
import { STATUS_COLORS, when } from "../../format";
import { REFRESH_MS } from "./CampaignPage";
import { CsvImport } from "./CsvImport";
import { LeadDetail } from "./LeadDetail";

const EXECUTION_STATUSES = ["pending", "running", "waiting", "paused", "completed", "responded", "failed", "cancelled", "opted_out", "skipped"];

function waitingReason(row: CampaignContactOut): string {
  if (row.error_message) return row.error_message;
  if (row.waiting_reason) return `${row.waiting_reason}${row.waiting_until ? ` until ${when(row.waiting_until)}` : ""}`;
  if (row.status === "waiting" && row.next_execution_at) return `at ${row.current_node_id ?? "?"} until ${when(row.next_execution_at)}`;
  if (row.status === "pending") return "not started yet";
  return row.current_node_id ? `at ${row.current_node_id}` : "—";
}

export function ContactsTab({ campaign, org }: { campaign: CampaignOut; org: string }) {
  const path = { path: { campaign_id: campaign.id } };
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<string | null>(null);
  const [search, setSearch] = useState("");
  const [applied, setApplied] = useState("");
  const [cursor, setCursor] = useState<number | undefined>(undefined);
  const [picked, setPicked] = useState<string[]>([]);
  const [opened, setOpened] = useState<number | null>(null);
  const [contactSearch, setContactSearch] = useState("");
  const rows = useQuery({
    queryKey: ["campaign-contacts", org, campaign.id, status, applied, cursor],
    queryFn: () =>
      unwrap(listCampaignContactsCampaignFlowsCampaignIdContactsGet({ ...path, query: { status: (status ?? undefined) as ExecutionStatus | undefined, search: applied || undefined, cursor, limit: 50 } })),
    refetchInterval: REFRESH_MS,
  });
  const directory = useQuery({
    queryKey: ["contacts", org, contactSearch],
    queryFn: () => unwrap(listContactsContactsGet({ query: { search: contactSearch || undefined, limit: 100 } })),
  });
  const allowed = useQuery({
    queryKey: ["allowed", org, campaign.id, campaign.status, campaign.enabled, campaign.deleted_at],
    queryFn: () => unwrap(campaignAllowedActionsCampaignFlowsCampaignIdAllowedActionsGet(path)),
  });
  const canAdd = allowed.data?.allowed_actions.includes("add_contacts") ?? false;
  const canRemove = allowed.data?.allowed_actions.includes("remove_contacts") ?? false;
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["campaign-contacts", org, campaign.id] });
  const add = useMutation({
    mutationFn: () => unwrap(addCampaignContactsCampaignFlowsCampaignIdContactsPost({ ...path, body: { contact_ids: picked.map(Number) } })),
    onSuccess: () => {
      setPicked([]);
      refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (contactId: number) => unwrap(removeCampaignContactsCampaignFlowsCampaignIdContactsDelete({ ...path, body: { contact_ids: [contactId] } })),
    onSuccess: refresh,
  });
  const error = add.error ?? remove.error;
  return (
    <Stack>
      <LeadDetail executionId={opened} org={org} onClose={() => setOpened(null)} />
      {canAdd ? (
        <>
          <Group align="end">
            <MultiSelect
              label="Add from your contacts"
              placeholder="Pick contacts"
              searchable
              searchValue={contactSearch}
              onSearchChange={setContactSearch}
              data={(directory.data?.items ?? []).map((c) => ({
                value: String(c.id),
                label: [c.first_name, c.last_name].filter(Boolean).join(" ") + (c.username ? ` @${c.username}` : c.phone ? ` ${c.phone}` : ""),
              }))}
              value={picked}
              onChange={setPicked}
              w={420}
            />
            <Button onClick={() => add.mutate()} disabled={picked.length === 0} loading={add.isPending}>
              Add to campaign
            </Button>
            {add.data ? (
              <Text size="sm" c="dimmed">
                Added {add.data.added}, skipped {add.data.skipped} already in the campaign.
              </Text>
            ) : null}
          </Group>
          <CsvImport campaignId={campaign.id} onDone={refresh} />
        </>
      ) : allowed.data ? (
        <Text size="sm" c="dimmed">
          Contacts cannot be added: {campaign.status === "stopped" ? "the campaign is stopped." : "your role or the campaign's state does not allow it."}
        </Text>
      ) : null}
      {error ? (
        <Alert color="red" role="alert">
          {errorSentence(error)}
        </Alert>
      ) : null}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setCursor(undefined);
          setApplied(search);
        }}
      >
        <Group align="end">
          <TextInput label="Search contacts" value={search} onChange={(e) => setSearch(e.currentTarget.value)} />
          <Button type="submit" variant="default">
            Search
          </Button>
          <Select label="Execution status" clearable data={EXECUTION_STATUSES} value={status} onChange={(v) => { setCursor(undefined); setStatus(v); }} w={180} />
        </Group>
      </form>
      <QueryState query={rows} what="contacts">
        {(page) =>
          page.items.length === 0 ? (
            <Empty>No contacts in this campaign{status || applied ? " match" : " yet"}.</Empty>
          ) : (
            <>
              <Table striped highlightOnHover data-testid="campaign-contacts">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Contact</Table.Th>
                    <Table.Th>Status</Table.Th>
                    <Table.Th>Where / why waiting</Table.Th>
                    <Table.Th>Started</Table.Th>
                    <Table.Th>Completed</Table.Th>
                    <Table.Th />
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {page.items.map((r) => (
                    <Table.Tr
                      key={r.execution_id}
                      onClick={() => setOpened(r.execution_id)}
                      onKeyDown={(e) => {
                        if (e.target === e.currentTarget && (e.key === "Enter" || e.key === " ")) {
                          e.preventDefault();
                          setOpened(r.execution_id);
                        }
                      }}
                      tabIndex={0}
                      style={{ cursor: "pointer" }}
                      title="Show this lead's detail (Enter)"
                    >
                      <Table.Td>
                        {[r.first_name, r.last_name].filter(Boolean).join(" ")} {r.username ? <Text span c="dimmed">@{r.username}</Text> : null}
                      </Table.Td>
                      <Table.Td>
                        <Badge color={STATUS_COLORS[r.status] ?? "gray"}>{r.status}</Badge>
                      </Table.Td>
                      <Table.Td>{waitingReason(r)}</Table.Td>
                      <Table.Td>{when(r.started_at)}</Table.Td>
                      <Table.Td>{when(r.completed_at)}</Table.Td>
                      <Table.Td onClick={(e) => e.stopPropagation()}>
                        {canRemove ? (
                          <ConfirmButton
                            label="Remove"
                            variant="light"
                            color="red"
                            question={`Remove ${r.first_name ?? r.username ?? "this contact"} from the campaign? Their execution is cancelled.`}
                            onConfirm={() => remove.mutate(r.contact_id)}
                          />
                        ) : null}
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
