import { MantineProvider } from "@mantine/core";
import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { METRICS, StatisticsView } from "./StatisticsView";

const STATS = {
  total_contacts: 3,
  contacts_started: 3,
  contacts_active: 1,
  contacts_completed: 1,
  contacts_responded: 1,
  contacts_failed: 0,
  messages_sent: 4,
  messages_delivered: 4,
  messages_failed: 0,
  messages_not_sent: 0,
  messages_read: 2,
  completion_rate: 33.33,
  response_rate: 25,
  delivery_rate: 100,
  read_rate: 50,
  executions_by_status: { waiting: 1, completed: 1, responded: 1 },
  per_node: { hello: { sent: 3, replied: 1, reply_rate: 33.33 } },
  per_variant: {},
};

function show(activities = [] as Parameters<typeof StatisticsView>[0]["activities"]) {
  return render(
    <MantineProvider>
      <StatisticsView stats={STATS} series={[{ at: "2026-01-01T10:00:00Z", sent: 4, replied: 1, read: 2 }]} activities={activities} />
    </MantineProvider>,
  );
}

describe("StatisticsView", () => {
  it("shows every metric of the seed, reads included, with rates as percentages", () => {
    show();
    for (const metric of METRICS) expect(screen.getByTestId(`metric-${metric.key}`)).toBeTruthy();
    expect(screen.getByTestId("metric-messages_read").textContent).toContain("2");
    expect(screen.getByTestId("metric-response_rate").textContent).toContain("25%");
    expect(screen.getByTestId("metric-completion_rate").textContent).toContain("33.33%");
  });

  it("tables per node and per variant, the charts and the activities", () => {
    show([{ id: 9, executed_at: "2026-01-01T10:00:00Z", contact_name: "Alice", event_type: "response_detected", status: "received", message_text: "hi!" }]);
    const perNode = screen.getByTestId("table-Node");
    expect(within(perNode).getByText("hello")).toBeTruthy();
    expect(within(perNode).getByText("33.33%")).toBeTruthy();
    expect(screen.getAllByText("Nothing sent yet.")).toHaveLength(1);
    expect(screen.getByTestId("chart-status")).toBeTruthy();
    expect(screen.getByTestId("chart-series")).toBeTruthy();
    const feed = screen.getByTestId("activities");
    expect(within(feed).getByText("response_detected")).toBeTruthy();
    expect(within(feed).getByText("hi!")).toBeTruthy();
  });

  it("says so when there is nothing yet", () => {
    render(
      <MantineProvider>
        <StatisticsView stats={{}} series={[]} activities={[]} />
      </MantineProvider>,
    );
    expect(screen.getByText("No executions yet.")).toBeTruthy();
    expect(screen.getByText("No messages in the last 7 days.")).toBeTruthy();
    expect(screen.getByText("No activity yet.")).toBeTruthy();
  });

  it("marks an automatic A/B winner in the per-variant table and shows the A/B tests", () => {
    const stats = { ...STATS, per_variant: { A: { sent: 5, replied: 5, reply_rate: 100 }, B: { sent: 3, replied: 0, reply_rate: 0 } } };
    const arms = [
      { name: "A", exposed: 5, successes: 5, rate: 100, winner: true },
      { name: "B", exposed: 3, successes: 0, rate: 0, winner: false },
    ];
    render(
      <MantineProvider>
        <StatisticsView
          stats={stats}
          series={[]}
          activities={[]}
          abTests={[{ node_id: "hello", node_type: "send_message", metric: "reply_rate", min_sample: 3, confidence: 0.95, arms, decision: { winner: "A", decided_at: "2026-01-01T10:00:00Z", arms, runner_up: "B", z: 2.83, p_value: 0.002, threshold: 1.6449 } }]}
        />
      </MantineProvider>,
    );
    const rows = within(screen.getByTestId("table-Variant")).getAllByRole("row");
    expect(within(rows[1]).getByText("A/B winner")).toBeTruthy();
    expect(within(rows[2]).queryByText("A/B winner")).toBeNull();
    expect(within(screen.getByTestId("table-Node")).queryByText("A/B winner")).toBeNull();
    expect(screen.getByTestId("ab-test-hello")).toBeTruthy();
  });
});
