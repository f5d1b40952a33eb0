import type { Command } from "commander";

/**
 * Placeholder: the LIVE/STORE engineer replaces this body with `volfolio chain fetch`
 * (live Deribit REST/WebSocket snapshot). chain.ts calls it after creating `chain`.
 */
export function registerChainFetch(_chain: Command): void {}
