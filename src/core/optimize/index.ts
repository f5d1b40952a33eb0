// Public API of core/optimize (filled in by the area's owner).
export {};
