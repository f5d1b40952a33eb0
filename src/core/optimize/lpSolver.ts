/**
 * The LP solver, passed in: `await loadLpSolver()` once at the edge (CLI command, web pipeline,
 * agent start, sweep worker), then plain synchronous `solver.solve(lp)` calls everywhere in core
 * (optimizer, frontier, cutting planes, IIS, the backtest's optimizer strategy). HiGHS compiled to
 * WebAssembly loads asynchronously but solves synchronously, so only the load is awaited; nothing
 * in core keeps a module-level instance (each loadLpSolver() call makes its own; memoize at the
 * edge if several commands in one process share it).
 */
import type { LpProblem } from "./buildProblem.js";
import {
  type HighsBackend,
  type HighsInstance,
  type HighsOptions,
  type LpSolution,
  solveHighsModel,
  solveHighsText,
} from "./highsAdapter.js";

export type { HighsBackend, HighsOptions, LpSolution } from "./highsAdapter.js";

/** A loaded LP/MILP solver. Synchronous; never throws for infeasible or unbounded models. */
export interface LpSolver {
  solve(lp: LpProblem, options?: HighsOptions, backend?: HighsBackend): LpSolution;
}

/** Thrown by a solver whose WebAssembly instance aborted earlier (load a new one). */
export class LpSolverAbortedError extends Error {
  constructor(cause: unknown) {
    super(
      `the HiGHS WebAssembly instance aborted (${cause instanceof Error ? cause.message : String(cause)}); load a new solver with loadLpSolver()`,
    );
    this.name = "LpSolverAbortedError";
  }
}

/**
 * A solver over one HiGHS instance. A WebAssembly abort (e.g. the 2 GiB heap exhausted) leaves the
 * instance unusable: that solve rethrows the abort and every later one throws LpSolverAbortedError.
 */
export function highsLpSolver(highs: HighsInstance): LpSolver {
  let aborted: unknown = null;
  return {
    solve(lp, options = {}, backend = "model") {
      if (aborted !== null) throw new LpSolverAbortedError(aborted);
      try {
        return backend === "lp-text"
          ? solveHighsText(highs, lp, options)
          : solveHighsModel(highs, lp, options);
      } catch (e) {
        // Our own input checks throw RangeError before HiGHS runs; anything else came from HiGHS.
        if (!(e instanceof RangeError)) aborted = e;
        throw e;
      }
    },
  };
}

/** Loads HiGHS (the `highs` package, WebAssembly) and returns a synchronous solver over it. */
export async function loadLpSolver(): Promise<LpSolver> {
  const m = await import("highs");
  const factory = (m as unknown as { default: () => Promise<HighsInstance> }).default;
  return highsLpSolver(await factory());
}
