import { findExecutable } from '../host-programs/find-executable';
import { runProgram } from '../host-programs/run-program';
import { ProgramError } from '../errors';

// Whether CRIU can checkpoint on this host: `criu check` asks the kernel for every feature CRIU
// needs. Its answer does not change while the daemon runs (the kernel does not), so it is asked
// once and remembered. Debian 12's CRIU 3.17 fails it on kernels newer than it knows (its vDSO
// parser), as on the developers' 6.18 VMs.

export type CriuVerdict = { readonly usable: true } | { readonly usable: false; readonly reason: string };

let verdict: Promise<CriuVerdict> | undefined;

export function criuVerdict(): Promise<CriuVerdict> {
  verdict ??= check();
  return verdict;
}

async function check(): Promise<CriuVerdict> {
  const criu = findExecutable('criu');
  if (!criu) return { usable: false, reason: 'criu is not installed (Debian: apt-get install criu)' };
  try {
    await runProgram(criu, ['check'], { timeoutMs: 30_000 });
    return { usable: true };
  } catch (error) {
    const said = error instanceof ProgramError ? error.stderr.trim() : String(error);
    return { usable: false, reason: `criu check failed: ${said.split('\n').map((line) => line.trim()).filter(Boolean).join('; ')}` };
  }
}
