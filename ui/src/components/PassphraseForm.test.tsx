import { act, fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { ENTER_MEMBER, ENTER_PASSPHRASE, usePassphraseForm, type PassphraseFormOptions } from "./PassphraseForm";

const STRONG = "violet anchor meadow drum";

function Form(props: PassphraseFormOptions) {
  const form = usePassphraseForm(props);
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void form.submit();
      }}
    >
      {form.fields}
      {form.error ? <p role="status">{form.error}</p> : null}
      <button type="submit">Go</button>
    </form>
  );
}

function type(label: string, value: string) {
  const input = screen.getByLabelText(label) as HTMLInputElement;
  if (input.type === "password") input.value = value;
  else fireEvent.change(input, { target: { value } });
  fireEvent.input(input);
}

async function go() {
  await act(async () => {
    fireEvent.click(screen.getByRole("button", { name: "Go" }));
  });
}

describe("the passphrase form", () => {
  it("with a name and the current passphrase: asks for both, hands them over once, empties the field", async () => {
    const onSubmit = vi.fn(async () => undefined);
    render(<Form member={{}} current={{}} onSubmit={onSubmit} />);
    await go();
    expect(screen.getByRole("status").textContent).toBe(ENTER_MEMBER);
    type("Member name", "  alice ");
    await go();
    expect(screen.getByText(ENTER_PASSPHRASE)).toBeTruthy();
    type("Passphrase", "the one I have");
    await go();
    expect(onSubmit).toHaveBeenCalledWith({ member: "alice", current: "the one I have", fresh: "" });
    expect((screen.getByLabelText("Passphrase") as HTMLInputElement).value).toBe("");
  });

  it("with a new member name: checks it beside the field and asks the new passphrase twice", async () => {
    const onSubmit = vi.fn(async () => undefined);
    render(<Form member={{ label: "Owner name", checkName: true }} fresh={{}} onSubmit={onSubmit} />);
    type("Owner name", "al ice");
    await go();
    expect(screen.getByLabelText("Owner name").getAttribute("aria-invalid")).toBe("true");
    type("Owner name", "alice");
    type("Passphrase", STRONG);
    type("Repeat passphrase", "something else");
    await go();
    expect(onSubmit).not.toHaveBeenCalled();
    type("Repeat passphrase", STRONG);
    await go();
    expect(onSubmit).toHaveBeenCalledWith({ member: "alice", current: "", fresh: STRONG });
    expect(document.body.innerHTML).not.toContain("violet");
  });

  it("shows the backend's refusal and lets the member try again", async () => {
    const onSubmit = vi.fn(async () => {
      throw { code: "auth", message: "wrong member name or passphrase" };
    });
    render(<Form current={{ label: "Current passphrase" }} fresh={{ label: "New passphrase", repeatLabel: "Repeat new passphrase" }} onSubmit={onSubmit} />);
    type("Current passphrase", "old one");
    type("New passphrase", STRONG);
    type("Repeat new passphrase", STRONG);
    await go();
    expect(screen.getByRole("status").textContent).toBe("Wrong member name or passphrase.");
    expect(onSubmit).toHaveBeenCalledWith({ member: "", current: "old one", fresh: STRONG });
    expect((screen.getByLabelText("Current passphrase") as HTMLInputElement).value).toBe("");
    expect(screen.getByRole("button", { name: "Go" })).toBeTruthy();
  });

  it("checks the screen's own parts before reading a passphrase", async () => {
    const onSubmit = vi.fn(async () => undefined);
    render(<Form member={{ initial: "alice" }} fresh={{}} validate={() => "Enter the words."} onSubmit={onSubmit} />);
    type("Passphrase", STRONG);
    type("Repeat passphrase", STRONG);
    await go();
    expect(screen.getByRole("status").textContent).toBe("Enter the words.");
    // Nothing was taken: the fields keep what was typed.
    expect((screen.getByLabelText("Passphrase") as HTMLInputElement).value).toBe(STRONG);
    expect(onSubmit).not.toHaveBeenCalled();
  });
});
