// Small display helpers shared by the pages.

export function when(value: string | null | undefined): string {
  return value ? new Date(value).toLocaleString() : "—";
}

export function age(since: number, now: number): string {
  const seconds = Math.max(0, Math.round((now - since) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  return `${Math.floor(seconds / 60)} min ago`;
}

export const STATUS_COLORS: Record<string, string> = {
  draft: "gray",
  scheduled: "cyan",
  active: "green",
  paused: "yellow",
  completed: "blue",
  cancelled: "red",
  running: "green",
  waiting: "cyan",
  responded: "teal",
  failed: "red",
  pending: "gray",
};
