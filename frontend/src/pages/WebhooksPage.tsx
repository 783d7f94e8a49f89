// Webhooks of the current scope: list, create (the secret is shown once), delete, and
// each webhook's deliveries with their attempts and a redeliver button.
import { Alert, Badge, Button, Checkbox, Code, Group, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useParams } from "@tanstack/react-router";
import { useState } from "react";
import {
  createWebhookWebhooksPost,
  deleteWebhookWebhooksWebhookIdDelete,
  errorSentence,
  listDeliveriesWebhooksWebhookIdDeliveriesGet,
  listWebhooksWebhooksGet,
  redeliverWebhooksWebhookIdDeliveriesDeliveryIdRedeliverPost,
  unwrap,
  type WebhookEvent,
} from "../api";
import { ConfirmButton } from "../components/Confirm";
import { Empty, QueryState } from "../components/States";
import { when } from "../format";

const EVENTS: WebhookEvent[] = [
  "message_sent",
  "message_read",
  "response_detected",
  "execution_finished",
  "campaign_status_changed",
  "account_health_changed",
];

const STATUS_COLORS: Record<string, string> = { delivered: "green", pending: "yellow", failed: "red" };

export function WebhooksPage() {
  const { org } = useParams({ from: "/o/$org/webhooks" });
  const queryClient = useQueryClient();
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState<WebhookEvent[]>([...EVENTS]);
  const [openId, setOpenId] = useState<number | null>(null);
  const webhooks = useQuery({
    queryKey: ["webhooks", org],
    queryFn: () => unwrap(listWebhooksWebhooksGet({ query: { limit: 500 } })),
  });
  const create = useMutation({
    mutationFn: () => unwrap(createWebhookWebhooksPost({ body: { url, events } })),
    onSuccess: () => {
      setUrl("");
      queryClient.invalidateQueries({ queryKey: ["webhooks", org] });
    },
  });
  const remove = useMutation({
    mutationFn: (id: number) => unwrap(deleteWebhookWebhooksWebhookIdDelete({ path: { webhook_id: id } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["webhooks", org] }),
  });
  return (
    <>
      <Title order={2} mb="md">
        Webhooks
      </Title>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        <Stack mb="md" gap="xs">
          <Group align="end">
            <TextInput
              label="Receiver URL"
              placeholder="https://example.com/tgflows"
              value={url}
              onChange={(e) => setUrl(e.currentTarget.value)}
              style={{ flex: 1 }}
            />
            <Button type="submit" loading={create.isPending} disabled={!url || events.length === 0}>
              Add webhook
            </Button>
          </Group>
          <Checkbox.Group value={events} onChange={(v) => setEvents(v as WebhookEvent[])} label="Events">
            <Group mt={4}>
              {EVENTS.map((e) => (
                <Checkbox key={e} value={e} label={e} />
              ))}
            </Group>
          </Checkbox.Group>
        </Stack>
      </form>
      {create.data ? (
        <Alert mb="md" color="green" title="Webhook added: copy its signing secret now">
          <Text size="sm">It is shown only this once. Requests carry X-Tgflows-Signature made with it.</Text>
          <Code block mt="xs">
            {create.data.secret}
          </Code>
        </Alert>
      ) : null}
      {create.error || remove.error ? (
        <Alert mb="md" color="red" role="alert">
          {errorSentence(create.error ?? remove.error)}
        </Alert>
      ) : null}
      <QueryState query={webhooks} what="webhooks">
        {(page) =>
          page.items.length === 0 ? (
            <Empty>No webhooks yet: add a receiver above.</Empty>
          ) : (
            <Table striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>URL</Table.Th>
                  <Table.Th>Events</Table.Th>
                  <Table.Th>Created</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((w) => (
                  <Table.Tr key={w.id}>
                    <Table.Td>{w.url}</Table.Td>
                    <Table.Td>{w.events.join(", ")}</Table.Td>
                    <Table.Td>{when(w.created_at)}</Table.Td>
                    <Table.Td>
                      <Group gap="xs" wrap="nowrap">
                        <Button size="xs" variant="default" onClick={() => setOpenId(openId === w.id ? null : w.id)}>
                          {openId === w.id ? "Hide deliveries" : "Deliveries"}
                        </Button>
                        <ConfirmButton
                          label="Delete"
                          color="red"
                          variant="light"
                          question={`Delete the webhook to ${w.url}? Its pending deliveries are not sent.`}
                          onConfirm={() => remove.mutate(w.id)}
                        />
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )
        }
      </QueryState>
      {openId !== null ? <Deliveries org={org} webhookId={openId} /> : null}
    </>
  );
}

function Deliveries({ org, webhookId }: { org: string; webhookId: number }) {
  const queryClient = useQueryClient();
  const deliveries = useQuery({
    queryKey: ["webhook-deliveries", org, webhookId],
    queryFn: () =>
      unwrap(listDeliveriesWebhooksWebhookIdDeliveriesGet({ path: { webhook_id: webhookId }, query: { limit: 100 } })),
    refetchInterval: 5000,
  });
  const redeliver = useMutation({
    mutationFn: (deliveryId: number) =>
      unwrap(
        redeliverWebhooksWebhookIdDeliveriesDeliveryIdRedeliverPost({
          path: { webhook_id: webhookId, delivery_id: deliveryId },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["webhook-deliveries", org, webhookId] }),
  });
  return (
    <>
      <Title order={3} mt="lg" mb="sm">
        Deliveries (newest first)
      </Title>
      {redeliver.error ? (
        <Alert mb="md" color="red" role="alert">
          {errorSentence(redeliver.error)}
        </Alert>
      ) : null}
      <QueryState query={deliveries} what="deliveries">
        {(page) =>
          page.items.length === 0 ? (
            <Empty>No events for this webhook yet.</Empty>
          ) : (
            <Table striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Event</Table.Th>
                  <Table.Th>Campaign</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Attempts (status, time)</Table.Th>
                  <Table.Th>Recorded</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((d) => (
                  <Table.Tr key={d.id}>
                    <Table.Td>
                      <Text size="sm">{d.event_type}</Text>
                      <Text size="xs" c="dimmed">
                        {d.event_id}
                      </Text>
                    </Table.Td>
                    <Table.Td>{d.campaign_id ?? "—"}</Table.Td>
                    <Table.Td>
                      <Badge color={STATUS_COLORS[d.status] ?? "gray"}>{d.status}</Badge>
                    </Table.Td>
                    <Table.Td>
                      {d.attempts.map((a, i) => (
                        <Text size="xs" key={i}>
                          {a.response_status ?? a.error ?? "no answer"} · {a.duration_ms} ms · {when(a.attempted_at)}
                          {a.manual ? " · redelivery" : ""}
                        </Text>
                      ))}
                    </Table.Td>
                    <Table.Td>{when(d.created_at)}</Table.Td>
                    <Table.Td>
                      <Button
                        size="xs"
                        variant="default"
                        loading={redeliver.isPending && redeliver.variables === d.id}
                        onClick={() => redeliver.mutate(d.id)}
                      >
                        Redeliver
                      </Button>
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
