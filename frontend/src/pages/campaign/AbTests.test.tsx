import { MantineProvider } from "@mantine/core";
import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { AbTestOut } from "../../client";
import { AbTests } from "./AbTests";

const arm = (name: string, exposed: number, successes: number, winner = false) => ({ name, exposed, successes, rate: exposed ? Math.round((10000 * successes) / exposed) / 100 : 0, winner });

const DECIDED: AbTestOut = {
  node_id: "hello",
  node_type: "send_message",
  metric: "reply_rate",
  min_sample: 3,
  confidence: 0.95,
  arms: [arm("A", 9, 4, true), arm("B", 3, 0)],
  decision: { winner: "A", decided_at: "2026-01-01T10:00:00Z", arms: [arm("A", 4, 4, true), arm("B", 3, 0)], runner_up: "B", z: 2.65, p_value: 0.004, threshold: 1.6449 },
};

function show(tests: AbTestOut[]) {
  return render(
    <MantineProvider>
      <AbTests tests={tests} />
    </MantineProvider>,
  );
}

describe("AbTests", () => {
  it("marks the winner among each arm's live numbers and says what it was picked on", () => {
    show([DECIDED]);
    const table = screen.getByTestId("ab-test-hello");
    const rows = within(table).getAllByRole("row");
    expect(rows[1].textContent).toContain("A");
    expect(within(rows[1]).getByText("winner")).toBeTruthy();
    expect(within(rows[2]).queryByText("winner")).toBeNull();
    expect(within(rows[1]).getByText("44.44%")).toBeTruthy();
    expect(screen.getByTestId("ab-verdict-hello").textContent).toContain("z = 2.65 against B");
  });

  it("says what is needed while no winner is picked", () => {
    show([{ ...DECIDED, node_id: "ab", node_type: "ab_split", arms: [arm("a", 1, 0), arm("b", 2, 1)], decision: null }]);
    expect(within(screen.getByTestId("ab-test-ab")).queryByText("winner")).toBeNull();
    expect(screen.getByTestId("ab-pending-ab").textContent).toContain("every arm needs 3 leads");
    expect(screen.getByText("Branch")).toBeTruthy();
  });
});
