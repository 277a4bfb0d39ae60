import { act, fireEvent, render, screen } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("../../bindings", () => ({ commands: { changePassphrase: vi.fn() } }));

import { commands } from "../../bindings";
import { ToastProvider } from "../../components/Toast";
import { ChangePassphraseDialog } from "./ChangePassphraseDialog";

const changePassphrase = vi.mocked(commands.changePassphrase);

function type(label: string, value: string) {
  const input = screen.getByLabelText(label) as HTMLInputElement;
  input.value = value;
  fireEvent.input(input);
}

function renderDialog(required: boolean) {
  const onChanged = vi.fn();
  const onCancel = vi.fn();
  render(
    <ToastProvider>
      <ChangePassphraseDialog required={required} onChanged={onChanged} onCancel={onCancel} />
    </ToastProvider>,
  );
  return { onChanged, onCancel };
}

function fillNew(passphrase: string, repeat = passphrase) {
  type("New passphrase", passphrase);
  type("Repeat new passphrase", repeat);
}

async function submit(name: string) {
  await act(async () => {
    fireEvent.click(screen.getByRole("button", { name }));
  });
}

beforeEach(() => changePassphrase.mockReset());

describe("Set your own passphrase (after unlock)", () => {
  it("cannot be dismissed: no close button, Escape does nothing, locking is the way out", () => {
    const { onCancel } = renderDialog(true);
    expect(screen.getByRole("dialog", { name: "Set your own passphrase" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Close dialog" })).toBeNull();
    fireEvent.keyDown(screen.getByRole("dialog"), { key: "Escape" });
    fireEvent.mouseDown(document.querySelector(".modal-backdrop")!);
    expect(onCancel).not.toHaveBeenCalled();
    fireEvent.click(screen.getByRole("button", { name: "Lock for now" }));
    expect(onCancel).toHaveBeenCalledTimes(1);
  });

  it("checks the form before asking the backend", async () => {
    renderDialog(true);
    await submit("Set passphrase");
    expect(screen.getByText("Enter your current passphrase.")).toBeTruthy();
    type("Current passphrase", "given by alice 1");
    fillNew("too short");
    await submit("Set passphrase");
    expect(screen.getByText(/Choose a stronger passphrase: at least 10 characters/)).toBeTruthy();
    fillNew("violet anchor meadow drum", "violet anchor meadow drums");
    await submit("Set passphrase");
    expect(screen.getByText("The two passphrases differ.")).toBeTruthy();
    expect(changePassphrase).not.toHaveBeenCalled();
  });

  it("sets the new passphrase and empties every field", async () => {
    changePassphrase.mockResolvedValue({ status: "ok", data: null });
    const { onChanged } = renderDialog(true);
    type("Current passphrase", "given by alice 1");
    fillNew("violet anchor meadow drum");
    await submit("Set passphrase");
    expect(changePassphrase).toHaveBeenCalledWith("given by alice 1", "violet anchor meadow drum");
    expect(onChanged).toHaveBeenCalledTimes(1);
    expect(document.body.innerHTML).not.toContain("violet anchor");
    expect(document.body.innerHTML).not.toContain("given by alice");
    expect(screen.getByText(/Your passphrase is set/)).toBeTruthy();
  });

  it("shows the backend's refusal and stays open", async () => {
    changePassphrase.mockResolvedValue({ status: "error", error: { code: "auth", message: "wrong passphrase" } });
    const { onChanged } = renderDialog(true);
    type("Current passphrase", "not the one");
    fillNew("violet anchor meadow drum");
    await submit("Set passphrase");
    expect(screen.getByRole("alert").textContent).toBe("Wrong passphrase.");
    expect(onChanged).not.toHaveBeenCalled();
    expect(screen.getByRole("dialog")).toBeTruthy();
    expect((screen.getByLabelText("Current passphrase") as HTMLInputElement).value).toBe("");
  });
});

describe("Change passphrase (from Settings)", () => {
  it("is an ordinary dialog that Cancel and Escape close", () => {
    const { onCancel } = renderDialog(false);
    expect(screen.getByRole("dialog", { name: "Change passphrase" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Close dialog" })).toBeTruthy();
    fireEvent.keyDown(screen.getByRole("dialog"), { key: "Escape" });
    fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    expect(onCancel).toHaveBeenCalledTimes(2);
  });
});
