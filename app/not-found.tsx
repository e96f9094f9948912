import Link from "next/link";

export default function NotFound() {
  return (
    <div className="py-16 text-center">
      <h1 className="text-2xl font-semibold">Not found</h1>
      <p className="mt-2 text-slate-600 dark:text-slate-300">
        There is nothing at this address. A report link may have been cut short.
      </p>
      <Link href="/" className="mt-6 inline-block rounded text-blue-700 underline dark:text-blue-400">
        Submit hashes
      </Link>
    </div>
  );
}
