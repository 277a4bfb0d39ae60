import { act, fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { useValueSlots, ValueInput, valueRequest, type ValueSlots } from "./ValueInput";

describe("one value, typed or generated", () => {
  it("becomes what setSecret carries", () => {
    const typed = { mode: "type" as const, length: 32, alphabet: "alnum" };
    expect(valueRequest(typed, "")).toBeNull();
    expect(valueRequest(typed, "sk_1")).toEqual({ value: "sk_1", generateLength: null, generateAlphabet: null });
    expect(valueRequest({ mode: "generate", length: 40, alphabet: "hex" }, "ignored")).toEqual({
      value: null,
      generateLength: 40,
      generateAlphabet: "hex",
    });
  });

  it("is held per slot, read once in order and emptied", () => {
    let slots: ValueSlots | null = null;
    function Blocks() {
      const s = useValueSlots(["staging", "production"]);
      slots = s;
      return (
        <>
          {["staging", "production"].map((env) => (
            <ValueInput key={env} environment={env} label={`Value for ${env}`} multiline={false} {...s.bind(env)} />
          ))}
        </>
      );
    }
    render(<Blocks />);
    expect(slots!.has()).toBe(false);
    const staging = screen.getByLabelText("Value for staging") as HTMLInputElement;
    staging.value = "sk_staging_1";
    fireEvent.input(staging);
    expect(slots!.has("staging")).toBe(true);
    expect(slots!.has("production")).toBe(false);
    fireEvent.click(screen.getByRole("button", { name: "Generate a value for production" }));
    fireEvent.change(screen.getByLabelText("Length for production"), { target: { value: "48" } });
    expect(slots!.has("production")).toBe(true);

    let taken: ReturnType<ValueSlots["take"]> = [];
    act(() => {
      taken = slots!.take(["staging", "production"]);
    });
    expect(taken).toEqual([
      { key: "staging", request: { value: "sk_staging_1", generateLength: null, generateAlphabet: null } },
      { key: "production", request: { value: null, generateLength: 48, generateAlphabet: "alnum" } },
    ]);
    expect(staging.value).toBe("");
    expect(slots!.has("staging")).toBe(false);
    expect(document.body.innerHTML).not.toContain("sk_staging_1");
  });
});
