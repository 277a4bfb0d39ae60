import { act, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { WORDS } from "../../test/recovery";
import { RecoveryKeyCeremony, WRONG_WORD } from "./RecoveryKeyCeremony";

function type(label: string, value: string) {
  const input = screen.getByLabelText(label) as HTMLInputElement;
  input.value = value;
  fireEvent.input(input);
}

/** The positions asked, read from the fields' labels ("Word 7" → 6). */
function asked(): number[] {
  return screen.getAllByLabelText(/^Word \d+$/).map((el) => {
    const id = el.getAttribute("id");
    const label = document.querySelector(`label[for="${id}"]`)?.textContent ?? "";
    return Number(/Word (\d+)/.exec(label)![1]) - 1;
  });
}

afterEach(() => vi.restoreAllMocks());

describe("the recovery key's one showing", () => {
  it("shows 24 numbered words in order, prints, and warns", () => {
    const print = vi.fn();
    window.print = print;
    render(<RecoveryKeyCeremony member="alice" words={WORDS} onConfirmed={vi.fn()} />);
    const list = screen.getByRole("list", { name: "Recovery key words" });
    const items = within(list).getAllByRole("listitem");
    expect(items).toHaveLength(24);
    expect(items[0]!.textContent).toBe("1abandon");
    expect(items[23]!.textContent).toBe("24actual");
    expect(screen.getByRole("alert").textContent).toContain("shown only once");
    expect(screen.getByText("Coffer recovery key for alice")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Print" }));
    expect(print).toHaveBeenCalledTimes(1);
    // No way past but the check, unless the screen offers "later".
    expect(screen.queryByRole("button", { name: "I will make one later" })).toBeNull();
  });

  it("asks one word from each third back, says which is wrong, and lets it be typed again", async () => {
    const onConfirmed = vi.fn();
    render(<RecoveryKeyCeremony member="alice" words={WORDS} onConfirmed={onConfirmed} />);
    fireEvent.click(screen.getByRole("button", { name: "I have written them down" }));
    expect(screen.queryByRole("list", { name: "Recovery key words" })).toBeNull();
    const [a, b, c] = asked();
    expect(a).toBeLessThan(8);
    expect(b).toBeGreaterThanOrEqual(8);
    expect(b).toBeLessThan(16);
    expect(c).toBeGreaterThanOrEqual(16);

    type(`Word ${a! + 1}`, ` ${WORDS[a!]!.toUpperCase()} `);
    type(`Word ${b! + 1}`, "wrongword");
    type(`Word ${c! + 1}`, WORDS[c!]!);
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Check words" }));
    });
    expect(onConfirmed).not.toHaveBeenCalled();
    expect(screen.getByText(WRONG_WORD(b! + 1))).toBeTruthy();
    // The right ones stay right; only the wrong one is asked again.
    expect(screen.queryByLabelText(`Word ${a! + 1}`)).toBeNull();
    expect(screen.getByText(`Word ${a! + 1}: right`)).toBeTruthy();

    type(`Word ${b! + 1}`, WORDS[b!]!);
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Check words" }));
    });
    expect(onConfirmed).toHaveBeenCalledTimes(1);
  });

  it("can go back to the words, and offers 'later' only where allowed", () => {
    const onLater = vi.fn();
    render(<RecoveryKeyCeremony member="alice" words={WORDS} onConfirmed={vi.fn()} onLater={onLater} />);
    fireEvent.click(screen.getByRole("button", { name: "I have written them down" }));
    fireEvent.click(screen.getByRole("button", { name: "Show the words again" }));
    expect(screen.getByRole("list", { name: "Recovery key words" })).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "I will make one later" }));
    expect(onLater).toHaveBeenCalledTimes(1);
  });

  it("keeps what is typed back out of the page's HTML", () => {
    render(<RecoveryKeyCeremony member="alice" words={WORDS} onConfirmed={vi.fn()} />);
    fireEvent.click(screen.getByRole("button", { name: "I have written them down" }));
    const [a] = asked();
    const before = document.body.innerHTML;
    type(`Word ${a! + 1}`, WORDS[a!]!);
    // The word itself may be a piece of the markup ("able" is in focusable=): what
    // matters is that typing it wrote nothing into the HTML.
    expect(document.body.innerHTML).toBe(before);
    expect(document.body.innerHTML.split(WORDS[a!]!).length).toBe(before.split(WORDS[a!]!).length);
  });
});
