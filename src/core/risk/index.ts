// Public API of core/risk (filled in by the area's owner).
export {};
