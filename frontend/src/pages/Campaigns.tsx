import { Alert, Anchor, Badge, Button, Group, SegmentedControl, Select, Table, TextInput, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { Link, useNavigate, useParams, useSearch } from "@tanstack/react-router";
import { useState } from "react";
import {
  listAccountsTelegramAccountsGet,
  listCampaignsCampaignFlowsGet,
  unwrap,
  viewModeConsoleViewModeGet,
} from "../api";
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
  };
}

export function CampaignsPage() {
  const { org } = useParams({ from: "/o/$org/campaigns" });
  const search = useSearch({ from: "/o/$org/campaigns" });
  const navigate = useNavigate({ from: "/o/$org/campaigns" });
  const [q, setQ] = useState(search.q ?? "");
  const set = (patch: Partial<CampaignSearch>) =>
    navigate({ search: (prev: CampaignSearch) => ({ ...prev, cursor: undefined, ...patch }) });
  const view = search.view ?? "own";
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
            status: search.status,
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
  const accountName = (id: number | null) => {
    const found = accounts.data?.items.find((a) => a.id === id);
    return found ? found.display_name ?? found.phone : id === null ? "—" : `#${id}`;
  };
  return (
    <>
      <Group justify="space-between" mb="md">
        <Title order={2}>Campaigns</Title>
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
            <Empty>No campaigns match.</Empty>
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
                      <Table.Td>{accountName(c.telegram_account_id)}</Table.Td>
                      <Table.Td>user #{c.created_by}</Table.Td>
                      <Table.Td>{when(c.created_at)}</Table.Td>
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
