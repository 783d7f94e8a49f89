import { Alert, Anchor, Badge, Button, Group, SegmentedControl, Select, Table, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useParams, useSearch } from "@tanstack/react-router";
import { useState } from "react";
import {
  campaignAllowedActionsCampaignFlowsCampaignIdAllowedActionsGet,
  errorSentence,
  listAccountsTelegramAccountsGet,
  listCampaignsCampaignFlowsGet,
  restoreCampaignCampaignFlowsCampaignIdRestorePost,
  unwrap,
  viewModeConsoleViewModeGet,
  type CampaignOut,
} from "../api";
import type { CampaignStatus } from "../client";
import { ConfirmButton } from "../components/Confirm";
import { Empty, QueryState } from "../components/States";
import { STATUS_COLORS, when } from "../format";

export type CampaignSearch = {
  view?: "own" | "all";
  status?: string;
  enabled?: "true" | "false";
  account?: string;
  q?: string;
  sort?: "-created_at" | "created_at";
  cursor?: string;
  trash?: "true";
};

const STATUSES = ["draft", "scheduled", "active", "paused", "completed", "cancelled"];

export function validateCampaignSearch(search: Record<string, unknown>): CampaignSearch {
  const text = (key: string) => (typeof search[key] === "string" && search[key] ? (search[key] as string) : undefined);
  const num = (key: string) => (search[key] === undefined ? undefined : String(search[key]));
  return {
    view: search.view === "all" ? "all" : undefined,
    status: text("status"),
    enabled: search.enabled === "true" || search.enabled === true ? "true" : search.enabled === "false" || search.enabled === false ? "false" : undefined,
    account: num("account"),
    q: text("q"),
    sort: search.sort === "created_at" ? "created_at" : undefined,
    cursor: num("cursor"),
    trash: search.trash === "true" || search.trash === true ? "true" : undefined,
  };
}

/** Restore, offered only when the API lists it among the campaign's allowed actions. */
function RestoreCell({ campaign, org }: { campaign: CampaignOut; org: string }) {
  const queryClient = useQueryClient();
  const path = { path: { campaign_id: campaign.id } };
  const allowed = useQuery({
    queryKey: ["allowed", org, campaign.id, campaign.status, campaign.enabled, campaign.deleted_at],
    queryFn: () => unwrap(campaignAllowedActionsCampaignFlowsCampaignIdAllowedActionsGet(path)),
  });
  const restore = useMutation({
    mutationFn: () => unwrap(restoreCampaignCampaignFlowsCampaignIdRestorePost(path)),
    onSuccess: () => {
      queryClient.invalidateQueries({ queryKey: ["campaigns", org] });
      queryClient.invalidateQueries({ queryKey: ["campaign", org, campaign.id] });
      queryClient.invalidateQueries({ queryKey: ["allowed", org, campaign.id] });
    },
  });
  if (restore.error) return <Text c="red" size="sm" role="alert">{errorSentence(restore.error)}</Text>;
  if (allowed.error) return <Text c="red" size="sm">{errorSentence(allowed.error)}</Text>;
  if (!allowed.data?.allowed_actions.includes("restore")) return null;
  return (
    <ConfirmButton
      label="Restore"
      variant="light"
      question={`Bring ${campaign.name} back from the trash?`}
      loading={restore.isPending}
      onConfirm={() => restore.mutate()}
    />
  );
}

function person(c: CampaignOut): string {
  return c.creator ? c.creator.name ?? c.creator.email : `user #${c.created_by}`;
}

export function CampaignsPage() {
  const { org } = useParams({ from: "/o/$org/campaigns" });
  const search = useSearch({ from: "/o/$org/campaigns" });
  const navigate = useNavigate({ from: "/o/$org/campaigns" });
  const [q, setQ] = useState(search.q ?? "");
  const set = (patch: Partial<CampaignSearch>) =>
    navigate({ search: (prev: CampaignSearch) => ({ ...prev, cursor: undefined, ...patch }) });
  const view = search.view ?? "own";
  const trash = search.trash === "true";
  const mode = useQuery({
    queryKey: ["view-mode", org, view],
    queryFn: () => unwrap(viewModeConsoleViewModeGet({ query: { requested: view } })),
    enabled: view === "all",
  });
  const accounts = useQuery({ queryKey: ["accounts", org], queryFn: () => unwrap(listAccountsTelegramAccountsGet()) });
  const campaigns = useQuery({
    queryKey: ["campaigns", org, search],
    queryFn: () =>
      unwrap(
        listCampaignsCampaignFlowsGet({
          query: {
            view_mode: view,
            deleted: trash,
            status: search.status as CampaignStatus | undefined,
            enabled: search.enabled === undefined ? undefined : search.enabled === "true",
            telegram_account_id: search.account ? Number(search.account) : undefined,
            search: search.q,
            sort: search.sort ?? "-created_at",
            cursor: search.cursor ? Number(search.cursor) : undefined,
            limit: 25,
          },
        }),
      ),
  });
  const accountName = (c: CampaignOut) => {
    if (c.account) return c.account.display_name ?? c.account.phone;
    return c.telegram_account_id === null ? "—" : `#${c.telegram_account_id}`;
  };
  return (
    <>
      <Group justify="space-between" mb="md">
        <Title order={2}>{trash ? "Trash" : "Campaigns"}</Title>
        <Group>
        <SegmentedControl
          aria-label="Trash"
          value={trash ? "trash" : "live"}
          onChange={(value) => set({ trash: value === "trash" ? "true" : undefined })}
          data={[
            { value: "live", label: "Campaigns" },
            { value: "trash", label: "Trash" },
          ]}
        />
        <SegmentedControl
          aria-label="View mode"
          value={view}
          onChange={(value) => set({ view: value === "all" ? "all" : undefined })}
          data={[
            { value: "own", label: "My Campaigns" },
            { value: "all", label: "All Organization Campaigns" },
          ]}
        />
        </Group>
      </Group>
      {mode.data?.reason ? (
        <Alert color="yellow" mb="md" data-testid="view-mode-fallback">
          Showing only your campaigns: {mode.data.reason}
        </Alert>
      ) : null}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          set({ q: q || undefined });
        }}
      >
        <Group mb="md" align="end">
          <TextInput label="Search by name" value={q} onChange={(e) => setQ(e.currentTarget.value)} w={220} />
          <Button type="submit" variant="default">
            Search
          </Button>
          <Select label="Status" clearable data={STATUSES} value={search.status ?? null} onChange={(v) => set({ status: v ?? undefined })} w={150} />
          <Select
            label="Enabled"
            clearable
            data={[
              { value: "true", label: "Enabled" },
              { value: "false", label: "Disabled" },
            ]}
            value={search.enabled ?? null}
            onChange={(v) => set({ enabled: (v as "true" | "false" | null) ?? undefined })}
            w={130}
          />
          <Select
            label="Account"
            clearable
            data={(accounts.data?.items ?? []).map((a) => ({ value: String(a.id), label: a.display_name ?? a.phone }))}
            value={search.account ?? null}
            onChange={(v) => set({ account: v ?? undefined })}
            w={180}
          />
          <Select
            label="Sort"
            allowDeselect={false}
            data={[
              { value: "-created_at", label: "Newest first" },
              { value: "created_at", label: "Oldest first" },
            ]}
            value={search.sort ?? "-created_at"}
            onChange={(v) => set({ sort: v === "created_at" ? "created_at" : undefined })}
            w={150}
          />
        </Group>
      </form>
      <QueryState query={campaigns} what="campaigns">
        {(page) =>
          page.items.length === 0 ? (
            <Empty>{trash ? "The trash is empty." : "No campaigns match."}</Empty>
          ) : (
            <>
              <Table striped highlightOnHover data-testid="campaign-table">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Name</Table.Th>
                    <Table.Th>Status</Table.Th>
                    <Table.Th>Enabled</Table.Th>
                    <Table.Th>Account</Table.Th>
                    <Table.Th>Creator</Table.Th>
                    <Table.Th>Created</Table.Th>
                    {trash ? <Table.Th>Deleted</Table.Th> : null}
                    {trash ? <Table.Th /> : null}
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {page.items.map((c) => (
                    <Table.Tr key={c.id}>
                      <Table.Td>
                        <Anchor renderRoot={(props) => <Link {...props} to="/o/$org/campaigns/$id/$tab" params={{ org, id: String(c.id), tab: "overview" }} />}>
                          {c.name}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>
                        <Badge color={STATUS_COLORS[c.status] ?? "gray"}>{c.status}</Badge>
                      </Table.Td>
                      <Table.Td>{c.enabled ? "yes" : "no"}</Table.Td>
                      <Table.Td>{accountName(c)}</Table.Td>
                      <Table.Td>{person(c)}</Table.Td>
                      <Table.Td>{when(c.created_at)}</Table.Td>
                      {trash ? <Table.Td>{when(c.deleted_at)}</Table.Td> : null}
                      {trash ? (
                        <Table.Td>
                          <RestoreCell campaign={c} org={org} />
                        </Table.Td>
                      ) : null}
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
              <Group mt="md">
                <Button variant="default" disabled={!search.cursor} onClick={() => set({ cursor: undefined })}>
                  First page
                </Button>
                <Button variant="default" disabled={!page.next_cursor} onClick={() => set({ cursor: page.next_cursor ?? undefined })}>
                  Next page
                </Button>
              </Group>
            </>
          )
        }
      </QueryState>
    </>
  );
}
