import Link from "next/link";

export default function JobNotFound() {
  return (
    <div className="py-16 text-center">
      <h1 className="text-2xl font-semibold">No such report</h1>
      <p className="mt-2 text-slate-600 dark:text-slate-400">
        No job has this id. Check that the link was copied whole: report ids are 22 characters long.
      </p>
      <Link href="/" className="mt-6 inline-block text-blue-700 underline dark:text-blue-400">
        Submit hashes
      </Link>
    </div>
  );
}
