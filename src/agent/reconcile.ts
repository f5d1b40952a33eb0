/**
 * Reconciliation of abandoned orders with the venue. An order the broker policy abandoned after
 * a timeout, a network error, a 5xx or an unknown error may still have reached the venue (the
 * policy asked for it by client order id before giving up, but a venue can lag, or that lookup
 * failed too). Such an order stays "unconfirmed": at the start of every later tick the loop asks
 * the broker for it by its client order id (`Broker.getOrder`, under the policy's timeout):
 *  - found: its state is journaled as the order's result (`order`, `recovered: true`,
 *    `reconciled: true`) and its fills go into the book, exactly once;
 *  - not found: the venue's answer, a tick or more after the send was given up, is final: the
 *    order never reached it (by then the broker's own request has timed out too); journaled
 *    `reconciled` with `found: false`;
 *  - the lookup fails: asked again at the next tick.
 * A rejected or disabled order is not reconciled (the venue refused it). The set is rebuilt from
 * the journal on restart (`unconfirmedOrders`), so a restart asks at the same tick an
 * uninterrupted run would.
 */
import type { JournalRecord } from "./agentTypes.js";
import type { BrokerErrorClass } from "./brokerPolicy.js";

/** Abandoned orders the venue may have received (module comment). */
const RECONCILED_CLASSES: ReadonlySet<BrokerErrorClass> = new Set([
  "timeout",
  "network",
  "server",
  "unknown",
]);

/** True when an order abandoned for `errorClass` must be looked up at the venue later. */
export function needsReconciliation(errorClass: BrokerErrorClass): boolean {
  return RECONCILED_CLASSES.has(errorClass);
}

/**
 * The client order ids abandoned for a reconcilable error and still without an outcome in the
 * journal (no `order` record, no `reconciled` record after the abandonment), in journal order.
 */
export function unconfirmedOrders(records: readonly JournalRecord[]): string[] {
  const open = new Set<string>();
  for (const r of records) {
    if (r.type === "broker-error" && r.action === "abandon" && needsReconciliation(r.errorClass))
      open.add(r.clientOrderId);
    else if (r.type === "order") open.delete(r.state.clientOrderId);
    else if (r.type === "reconciled") open.delete(r.clientOrderId);
  }
  return [...open];
}
