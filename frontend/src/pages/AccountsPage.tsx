import { Badge, Button, Group, Table, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useParams } from "@tanstack/react-router";
import { useState } from "react";
import { listAccountsTelegramAccountsGet, unwrap, type AccountOut } from "../api";
import { Empty, QueryState } from "../components/States";
import { when } from "../format";
import { WarmupCell } from "../components/Warmup";
import { TelethonSignIn } from "./TelethonSignIn";

const HEALTH: Record<string, string> = { connected: "green", unauthorized: "red", banned: "red" };

/** A pause's end, flagged while it still holds the account back. */
function Until({ at }: { at: string | null }) {
  const active = at !== null && Date.parse(at) > Date.now();
  return (
    <>
      {when(at)}{" "}
      {active ? (
        <Badge size="xs" color="orange">
          not sending
        </Badge>
      ) : null}
    </>
  );
}

export function AccountsPage() {
  const { org } = useParams({ from: "/o/$org/accounts" });
  const accounts = useQuery({
    queryKey: ["accounts", org],
    queryFn: () => unwrap(listAccountsTelegramAccountsGet()),
    refetchInterval: 30_000,
  });
  // null: closed; "new": a fresh sign-in; an account: resume its sign-in.
  const [signIn, setSignIn] = useState<AccountOut | "new" | null>(null);
  return (
    <>
      <Group justify="space-between" mb="md">
        <Title order={2}>Telegram accounts</Title>
        <Button onClick={() => setSignIn("new")}>Connect a Telethon account</Button>
      </Group>
      {signIn !== null ? (
        <TelethonSignIn
          key={signIn === "new" ? "new" : signIn.id}
          opened
          onClose={() => setSignIn(null)}
          resume={signIn === "new" ? null : signIn}
          org={org}
        />
      ) : null}
      <QueryState query={accounts} what="accounts">
        {(page) =>
          page.items.length === 0 ? (
            <Empty>No Telegram accounts in this space yet. Connect one with the button above.</Empty>
          ) : (
            <Table striped data-testid="accounts-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Account</Table.Th>
                  <Table.Th>Provider</Table.Th>
                  <Table.Th>Health</Table.Th>
                  <Table.Th>Limits</Table.Th>
                  <Table.Th>New conversations</Table.Th>
                  <Table.Th>Flood wait until</Table.Th>
                  <Table.Th>Cooldown until</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((a) => (
                  <Table.Tr key={a.id}>
                    <Table.Td>
                      {a.display_name ?? ""} {a.phone}
                    </Table.Td>
                    <Table.Td>{a.provider}</Table.Td>
                    <Table.Td>
                      <Badge color={HEALTH[a.status] ?? "yellow"}>{a.status}</Badge> {a.status_reason ?? ""}
                      {a.status === "pending_login" && a.provider === "telethon" ? (
                        <Button size="compact-xs" variant="light" ml="xs" onClick={() => setSignIn(a)}>
                          Continue sign-in
                        </Button>
                      ) : null}
                    </Table.Td>
                    <Table.Td>
                      {a.max_per_hour ?? "∞"}/hour · {a.max_per_day ?? "∞"}/day · every {a.min_interval_seconds}s ±{a.jitter_seconds}s
                    </Table.Td>
                    <Table.Td>
                      <WarmupCell account={a} />
                    </Table.Td>
                    <Table.Td>
                      <Until at={a.flood_wait_until} />
                    </Table.Td>
                    <Table.Td>
                      <Until at={a.cooldown_until} />
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )
        }
      </QueryState>
    </>
  );
}
