/** Coffer's mark: a keyhole on the accent colour. */
export function Logo({ size = 28 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" focusable="false" className="logo">
      <rect x="2" y="2" width="28" height="28" rx="8" fill="var(--accent)" />
      <circle cx="16" cy="13.5" r="4.2" fill="#fff" />
      <path d="M14.3 15.5h3.4l1.3 8h-6z" fill="#fff" />
    </svg>
  );
}
