import { act, fireEvent, render, screen } from "@testing-library/react";
import { createRef } from "react";
import { describe, expect, it } from "vitest";
import { NewPassphraseFields, PASSPHRASES_DIFFER, WEAK_PASSPHRASE, type NewPassphraseHandle } from "./NewPassphraseFields";

function type(label: string, value: string) {
  const input = screen.getByLabelText(label) as HTMLInputElement;
  input.value = value;
  fireEvent.input(input);
}

function renderFields(repeatLabel?: string) {
  const handle = createRef<NewPassphraseHandle>();
  render(<NewPassphraseFields ref={handle} label="New passphrase" repeatLabel={repeatLabel} />);
  return handle;
}

describe("a new passphrase", () => {
  it("refuses a weak one beside the field and keeps what was typed", () => {
    const handle = renderFields("Repeat new passphrase");
    type("New passphrase", "short");
    expect(screen.getByLabelText("Passphrase strength").textContent).toContain("Too short");
    let taken: string | null = "";
    act(() => {
      taken = handle.current!.take();
    });
    expect(taken).toBeNull();
    expect(screen.getByRole("alert").textContent).toBe(WEAK_PASSPHRASE);
    expect((screen.getByLabelText("New passphrase") as HTMLInputElement).value).toBe("short");
    type("New passphrase", "short and more");
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("asks for the same passphrase twice", () => {
    const handle = renderFields("Repeat new passphrase");
    type("New passphrase", "violet anchor meadow drum");
    type("Repeat new passphrase", "violet anchor meadow");
    expect(screen.getByRole("alert").textContent).toBe(PASSPHRASES_DIFFER);
    let taken: string | null = "";
    act(() => {
      taken = handle.current!.take();
    });
    expect(taken).toBeNull();
  });

  it("hands over an accepted passphrase once and empties the fields", () => {
    const handle = renderFields("Repeat new passphrase");
    type("New passphrase", "violet anchor meadow drum");
    type("Repeat new passphrase", "violet anchor meadow drum");
    let taken: string | null = null;
    act(() => {
      taken = handle.current!.take();
    });
    expect(taken).toBe("violet anchor meadow drum");
    expect((screen.getByLabelText("New passphrase") as HTMLInputElement).value).toBe("");
    expect((screen.getByLabelText("Repeat new passphrase") as HTMLInputElement).value).toBe("");
    expect(document.body.innerHTML).not.toContain("violet anchor");
  });

  it("is typed once when someone else will replace it", () => {
    const handle = renderFields();
    expect(screen.queryByLabelText(/Repeat/)).toBeNull();
    type("New passphrase", "violet anchor meadow drum");
    let taken: string | null = null;
    act(() => {
      taken = handle.current!.take();
    });
    expect(taken).toBe("violet anchor meadow drum");
  });
});
