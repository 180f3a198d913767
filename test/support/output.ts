/** Captures everything written to stdout/stderr (Powertools logs and EMF) while `work` runs. */
export async function captureOutput<T>(work: () => Promise<T>): Promise<{ result: T; output: string }> {
  const chunks: string[] = [];
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    chunks.push(String(chunk));
    return true;
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    return { result: await work(), output: chunks.join('') };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
