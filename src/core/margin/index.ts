// Public API of core/margin (filled in by the area's owner).
export {};
