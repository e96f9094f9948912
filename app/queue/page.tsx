import type { Metadata } from "next";
import { QueueStatus } from "./queue-status";

export const metadata: Metadata = { title: "Queue · Hashscan" };

export default function QueuePage() {
  return <QueueStatus />;
}
