// Who chose "I will make one later" at first run, so Settings can remind them. Kept in
// this window's memory only: nothing about it is written anywhere.

let skippedBy: string | null = null;

export function noteRecoveryKeySkipped(member: string): void {
  skippedBy = member;
}

export function recoveryKeySkipped(member: string): boolean {
  return skippedBy === member;
}

export function clearRecoveryKeyReminder(): void {
  skippedBy = null;
}
