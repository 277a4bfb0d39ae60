import { fireEvent, render, screen, within } from "@testing-library/react";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Capability, Secret } from "../../lib/types";
import { SecretTable } from "./SecretTable";

const NOW = Date.UTC(2026, 10, 24, 12);

// happy-dom lays nothing out; give elements a window-sized box so the virtualiser has
// a viewport to fill.
const box = { clientWidth: 1000, clientHeight: 640, offsetWidth: 1000, offsetHeight: 640 };
const saved = Object.fromEntries(
  Object.keys(box).map((k) => [k, Object.getOwnPropertyDescriptor(HTMLElement.prototype, k)]),
);
beforeAll(() => {
  for (const [k, v] of Object.entries(box)) {
    Object.defineProperty(HTMLElement.prototype, k, { configurable: true, get: () => v });
  }
});
afterAll(() => {
  for (const [k, d] of Object.entries(saved)) if (d) Object.defineProperty(HTMLElement.prototype, k, d);
});

function secret(name: string, over: Partial<Secret> = {}): Secret {
  return {
    name,
    description: `${name} description`,
    kind: "string",
    scope: "workspace",
    deleted_at: null,
    purge_at: null,
    environments: [
      { environment: "staging", state: "set", version: 2, updated_at: NOW, expires_at: null, expiring_soon: false, rotation_due: true, same_as: ["production"], exposed_to: [] },
      { environment: "production", state: "set", version: 5, updated_at: NOW, expires_at: null, expiring_soon: false, rotation_due: false, same_as: ["staging"], exposed_to: [] },
    ],
    ...over,
  };
}

const ENVS = [
  { name: "staging", protected: false },
  { name: "production", protected: true },
];

function renderTable(capabilities: Capability[], secrets = [secret("STRIPE_KEY")]) {
  const onAction = vi.fn();
  render(
    <SecretTable secrets={secrets} environments={ENVS} capabilities={capabilities} now={NOW} onAction={onAction} empty={<p>empty</p>} />,
  );
  return onAction;
}

function menuItems(name: string): string[] {
  fireEvent.click(screen.getByRole("button", { name: `Actions for ${name}` }));
  return within(screen.getByRole("menu")).getAllByRole("menuitem").map((i) => i.textContent ?? "");
}

describe("the key list", () => {
  it("shows a column per environment with version, same-as hint and badges", () => {
    renderTable(["list"]);
    const row = screen.getByRole("row", { name: "STRIPE_KEY" });
    expect(row.textContent).toContain("v2");
    expect(row.textContent).toContain("v5");
    expect(row.textContent).toContain("same as production");
    expect(row.textContent).toContain("rotation due");
    expect(screen.getByTitle(/production is protected/)).toBeTruthy();
  });

  it("marks a value a removed member could use as exposed, naming them", () => {
    const [staging, production] = secret("STRIPE_KEY").environments;
    renderTable(["list"], [secret("STRIPE_KEY", { environments: [staging!, { ...production!, exposed_to: ["bob"] }] })]);
    const row = screen.getByRole("row", { name: "STRIPE_KEY" });
    const badge = within(row).getByText("exposed");
    expect(badge.getAttribute("title")).toBe("bob could use the value in production and no longer has access: rotate it");
    expect(row.textContent).toContain("exposed: rotate");
    expect(within(row).getByTitle(/exposed to bob, who no longer has access/)).toBeTruthy();
  });

  it("offers an owner every action", () => {
    renderTable(["list", "use", "reveal", "write", "delete"]);
    expect(menuItems("STRIPE_KEY")).toEqual(["Update value", "History", "Copy reference", "Test", "Reveal", "Delete"]);
  });

  it("hides Reveal from an admin and writes from a viewer", () => {
    renderTable(["list", "use", "write", "delete"]);
    expect(menuItems("STRIPE_KEY")).toEqual(["Update value", "History", "Copy reference", "Test", "Delete"]);
    fireEvent.keyDown(screen.getByRole("menu"), { key: "Escape" });
  });

  it("gives a viewer only the harmless actions, without Test (which uses the value)", () => {
    renderTable(["list"]);
    expect(menuItems("STRIPE_KEY")).toEqual(["History", "Copy reference"]);
  });

  it("reports the chosen action with its secret", () => {
    const onAction = renderTable(["list", "reveal"]);
    menuItems("STRIPE_KEY");
    fireEvent.click(screen.getByRole("menuitem", { name: "Reveal" }));
    expect(onAction).toHaveBeenCalledWith("reveal", expect.objectContaining({ name: "STRIPE_KEY" }));
  });

  it("offers Restore on a deleted secret to members who may delete", () => {
    const onAction = renderTable(["list", "delete"], [secret("OLD_KEY", { deleted_at: NOW, purge_at: NOW + 7 * 86_400_000 })]);
    expect(screen.getByRole("row", { name: "OLD_KEY" }).textContent).toContain("restorable for 7 more days");
    fireEvent.click(screen.getByRole("button", { name: "Restore OLD_KEY" }));
    expect(onAction).toHaveBeenCalledWith("restore", expect.objectContaining({ name: "OLD_KEY" }));
    expect(screen.queryByRole("button", { name: "Actions for OLD_KEY" })).toBeNull();
  });

  it("renders only the rows in view out of 10,000", () => {
    const many = Array.from({ length: 10_000 }, (_, i) => secret(`SECRET_${String(i).padStart(5, "0")}`));
    renderTable(["list"], many);
    const rows = screen.getAllByRole("row").length;
    expect(rows).toBeGreaterThan(5);
    expect(rows).toBeLessThan(60);
    expect(screen.getByRole("table", { name: "Secrets" }).getAttribute("aria-rowcount")).toBe("10001");
  });
});
