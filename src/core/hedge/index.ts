// Public API of core/hedge (filled in by the area's owner).
export {};
