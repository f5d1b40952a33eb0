// Public API of core/regime (filled in by the area's owner).
export {};
