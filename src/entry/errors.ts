/**
 * `volfolio` errors: the typed input error every core function throws and the Result type of expected failures.
 */
export { fail, InvalidInputError, ok } from "../core/errors.js";
export type { Result } from "../core/errors.js";
