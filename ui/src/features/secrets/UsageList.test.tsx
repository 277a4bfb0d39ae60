import { act, screen } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("../../bindings", () => ({ commands: { secretUsages: vi.fn() } }));

import { commands } from "../../bindings";
import { renderInSession } from "../../test/session";
import { UsageList } from "./UsageList";

const secretUsages = vi.mocked(commands.secretUsages);

beforeEach(() => secretUsages.mockReset());

describe("where a secret is used", () => {
  it("lists the recorded places as file:line:column", async () => {
    secretUsages.mockResolvedValue({
      status: "ok",
      data: [{ file: "/repo/flows/pay.yaml", line: 4, column: 32, environment: "production", recorded_at: "2026-11-24T10:00:00Z" }],
    });
    await act(async () => {
      renderInSession(<UsageList name="STRIPE_KEY" intro="Used by:" empty="Nothing recorded." />);
    });
    expect(secretUsages).toHaveBeenCalledWith({ workspace: "default", project: "default" }, "STRIPE_KEY");
    expect(screen.getByLabelText("Where STRIPE_KEY is used").textContent).toContain("/repo/flows/pay.yaml:4:32 (production)");
  });

  it("says so when nothing is recorded", async () => {
    secretUsages.mockResolvedValue({ status: "ok", data: [] });
    await act(async () => {
      renderInSession(<UsageList name="STRIPE_KEY" intro="Used by:" empty="Nothing recorded." />);
    });
    expect(screen.getByText("Nothing recorded.")).toBeTruthy();
  });
});
