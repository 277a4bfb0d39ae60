import { act, screen, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("../../bindings", () => ({ commands: { showSecret: vi.fn(), secretUsages: vi.fn() } }));

import { commands, type EnvStatus_Serialize, type SecretDetail_Serialize } from "../../bindings";
import { renderInSession, testSession } from "../../test/session";
import { HistoryScreen } from "./HistoryScreen";

const showSecret = vi.mocked(commands.showSecret);
const secretUsages = vi.mocked(commands.secretUsages);
const T = Date.now() - 3_600_000;

function env(environment: string, exposed_to: string[]): EnvStatus_Serialize {
  return {
    environment,
    state: "set",
    version: 1,
    updated_at: T,
    expires_at: null,
    expiring_soon: false,
    rotation_due: false,
    same_as: [],
    exposed_to,
  };
}

function detail(environments: EnvStatus_Serialize[]): SecretDetail_Serialize {
  return {
    name: "STRIPE_KEY",
    description: "Payments",
    kind: "string",
    scope: "workspace",
    owner: "alice",
    created_at: T,
    updated_at: T,
    rotate_every: null,
    deleted_at: null,
    purge_at: null,
    environments,
    allowed_hosts: [],
    versions: environments.map((e) => ({
      environment: e.environment,
      version: 1,
      current: true,
      origin: "set",
      created_at: T,
      created_by: "alice",
      expires_at: null,
      superseded_at: null,
      destroyed: false,
      rollback_until: null,
      value_label: "A",
    })),
  };
}

async function renderHistory(environments: EnvStatus_Serialize[]) {
  showSecret.mockResolvedValue({ status: "ok", data: detail(environments) });
  secretUsages.mockResolvedValue({ status: "ok", data: [] });
  const session = testSession({
    environments: [
      { name: "staging", protected: false },
      { name: "production", protected: false },
    ],
  });
  await act(async () => {
    renderInSession(<HistoryScreen name="STRIPE_KEY" />, session);
  });
}

beforeEach(() => {
  showSecret.mockReset();
  secretUsages.mockReset();
});

describe("History", () => {
  it("names who a value is exposed to, in the environment concerned", async () => {
    await renderHistory([env("staging", []), env("production", ["bob", "carol"])]);
    const production = screen.getByRole("region", { name: "History in production" });
    expect(within(production).getByText("Exposed to bob, carol")).toBeTruthy();
    expect(production.textContent).toContain("could use the current value in production and no longer have access");
    const staging = screen.getByRole("region", { name: "History in staging" });
    expect(staging.textContent).not.toContain("Exposed");
  });
});
