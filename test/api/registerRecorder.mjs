// Registers recordResolve.mjs in the child process (`node --import tsx --import ./registerRecorder.mjs`).
import { register } from "node:module";

register("./recordResolve.mjs", import.meta.url, { data: { logFile: process.env.VOLFOLIO_RESOLVE_LOG } });
