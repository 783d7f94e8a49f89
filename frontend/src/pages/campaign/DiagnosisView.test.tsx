import { MantineProvider } from "@mantine/core";
import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { DiagnosisOut } from "../../api";
import { DiagnosisView } from "./DiagnosisPanel";

const UNTIL = "2026-01-01T10:30:00Z";

const BLOCKED: DiagnosisOut = {
  campaign_id: 7,
  verdict: "blocked",
  checked_at: "2026-01-01T10:00:00Z",
  reasons: [
    { code: "account_unauthorized", severity: "blocked", message: "The account is signed out", action: "Sign the account in again", until: null, details: {} },
    { code: "flood_wait", severity: "waiting", message: "Telegram asked the account to wait", action: null, until: UNTIL, details: {} },
    { code: "executions", severity: "info", message: "2 waiting", action: null, until: null, details: {} },
  ],
  executions_by_status: { waiting: 2 },
  waiting: [],
};

function show(diagnosis: DiagnosisOut) {
  return render(
    <MantineProvider>
      <DiagnosisView diagnosis={diagnosis} />
    </MantineProvider>,
  );
}

describe("DiagnosisView", () => {
  it("shows the verdict and every reason in the API's order, with what to do and until when", () => {
    show(BLOCKED);
    expect(screen.getByTestId("diagnosis-verdict").textContent).toBe("blocked");
    expect(screen.getByText("Blocked: someone has to act")).toBeTruthy();
    const codes = screen.getAllByTestId(/^diagnosis-reason-/).map((el) => el.dataset.testid);
    expect(codes).toEqual(["diagnosis-reason-account_unauthorized", "diagnosis-reason-flood_wait", "diagnosis-reason-executions"]);
    const first = screen.getByTestId("diagnosis-reason-account_unauthorized");
    expect(first.textContent).toContain("What to do: Sign the account in again");
    expect(first.textContent).not.toContain("Clears by itself");
    const wait = screen.getByTestId("diagnosis-reason-flood_wait");
    expect(wait.textContent).toContain(`Clears by itself at ${new Date(UNTIL).toLocaleString()}`);
    expect(wait.textContent).not.toContain("What to do");
  });

  it("shows a verdict without reasons", () => {
    show({ ...BLOCKED, verdict: "sending", reasons: [] });
    expect(screen.getByTestId("diagnosis-verdict").textContent).toBe("sending");
    expect(screen.getByText("Sending")).toBeTruthy();
    expect(screen.queryAllByTestId(/^diagnosis-reason-/)).toHaveLength(0);
  });
});
