import { Badge, Table, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useParams } from "@tanstack/react-router";
import { listAccountsTelegramAccountsGet, unwrap } from "../api";
import { Empty, QueryState } from "../components/States";
import { when } from "../format";
import { WarmupCell } from "../components/Warmup";

const HEALTH: Record<string, string> = { connected: "green", unauthorized: "red", banned: "red" };

export function AccountsPage() {
  const { org } = useParams({ from: "/o/$org/accounts" });
  const accounts = useQuery({
    queryKey: ["accounts", org],
    queryFn: () => unwrap(listAccountsTelegramAccountsGet()),
    refetchInterval: 30_000,
  });
  return (
    <>
      <Title order={2} mb="md">
        Telegram accounts
      </Title>
      <QueryState query={accounts} what="accounts">
        {(page) =>
          page.items.length === 0 ? (
            <Empty>No Telegram accounts in this space. Connect one through the API (POST /telegram-accounts/telethon-login).</Empty>
          ) : (
            <Table striped>
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
                    </Table.Td>
                    <Table.Td>
                      {a.max_per_hour ?? "∞"}/hour · {a.max_per_day ?? "∞"}/day · every {a.min_interval_seconds}s ±{a.jitter_seconds}s
                    </Table.Td>
                    <Table.Td>
                      <WarmupCell account={a} />
                    </Table.Td>
                    <Table.Td>{when(a.flood_wait_until)}</Table.Td>
                    <Table.Td>{when(a.cooldown_until)}</Table.Td>
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
